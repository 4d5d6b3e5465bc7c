//! Finding scripts like OpenOCD's `[find …]`: the `-s` directories first, then the current
//! directory, then the scripts built into the binary.

use std::path::{Path, PathBuf};

use crate::host::Host;

/// Built-in scripts: (name, content). A test checks that every file under `scripts/` and
/// `targets/` is listed here.
pub static EMBEDDED: &[(&str, &str)] = &[
    (
        "interface/sim.rhai",
        include_str!("../../scripts/interface/sim.rhai"),
    ),
    (
        "interface/stlink.rhai",
        include_str!("../../scripts/interface/stlink.rhai"),
    ),
    (
        "interface/cmsis-dap.rhai",
        include_str!("../../scripts/interface/cmsis-dap.rhai"),
    ),
    (
        "interface/jlink.rhai",
        include_str!("../../scripts/interface/jlink.rhai"),
    ),
    (
        "board/bluepill.rhai",
        include_str!("../../scripts/board/bluepill.rhai"),
    ),
    (
        "board/sim-bluepill.rhai",
        include_str!("../../scripts/board/sim-bluepill.rhai"),
    ),
    (
        "board/sim-stm32f3discovery.rhai",
        include_str!("../../scripts/board/sim-stm32f3discovery.rhai"),
    ),
    (
        "board/sim-st_nucleo_h743zi.rhai",
        include_str!("../../scripts/board/sim-st_nucleo_h743zi.rhai"),
    ),
    (
        "targets/stm32f1x.rhai",
        include_str!("../../targets/stm32f1x.rhai"),
    ),
    (
        "targets/stm32f3x.rhai",
        include_str!("../../targets/stm32f3x.rhai"),
    ),
    (
        "targets/stm32h7x.rhai",
        include_str!("../../targets/stm32h7x.rhai"),
    ),
];

/// Where a script was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptSource {
    /// A file on disk.
    File(PathBuf),
    /// A built-in script (its name, e.g. `board/sim-bluepill.rhai`).
    Embedded(&'static str, &'static str),
}

impl ScriptSource {
    /// The name shown in messages and error positions: the path, or `<builtin>/name`.
    pub fn display_name(&self) -> String {
        match self {
            ScriptSource::File(p) => p.display().to_string(),
            ScriptSource::Embedded(name, _) => format!("<builtin>/{name}"),
        }
    }

    /// The script text.
    pub fn read(&self) -> std::io::Result<String> {
        match self {
            ScriptSource::File(p) => std::fs::read_to_string(p),
            ScriptSource::Embedded(_, text) => Ok(text.to_string()),
        }
    }
}

/// Looks `name` up: absolute paths as they are; otherwise each `-s` directory, the current
/// directory, then the built-in set (`board/…`, `interface/…`, `targets/…`; a leading
/// `scripts/` is accepted too).
pub fn find(host: &Host, name: &str) -> Option<ScriptSource> {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.is_file().then(|| ScriptSource::File(p.to_path_buf()));
    }
    let dirs: Vec<PathBuf> = host.config().search_dirs.clone();
    for d in &dirs {
        let c = d.join(p);
        if c.is_file() {
            return Some(ScriptSource::File(c));
        }
    }
    // The current directory: keep the name as given (`board/x.rhai`, not `./board/x.rhai`).
    if p.is_file() {
        return Some(ScriptSource::File(p.to_path_buf()));
    }
    let key = name.strip_prefix("scripts/").unwrap_or(name);
    EMBEDDED
        .iter()
        .find(|(n, _)| *n == key)
        .map(|(n, t)| ScriptSource::Embedded(n, t))
}

/// Names of the built-in scripts.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    EMBEDDED.iter().map(|(n, _)| *n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_script_file_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut missing = Vec::new();
        for (dir, prefix) in [("scripts", ""), ("targets", "targets/")] {
            let mut stack = vec![root.join(dir)];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).unwrap().flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "rhai") {
                        let rel = p
                            .strip_prefix(root.join(dir))
                            .unwrap()
                            .to_string_lossy()
                            .replace('\\', "/");
                        let name = format!("{prefix}{rel}");
                        if !super::EMBEDDED.iter().any(|(n, _)| *n == name) {
                            missing.push(name);
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "add these to EMBEDDED in src/script/find.rs: {missing:?}"
        );
    }
}
