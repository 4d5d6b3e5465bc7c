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
        "interface/remote_bitbang.rhai",
        include_str!("../../scripts/interface/remote_bitbang.rhai"),
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
    (
        "targets/stm32h7x_dual_bank.rhai",
        include_str!("../../targets/stm32h7x_dual_bank.rhai"),
    ),
    (
        "board/st_nucleo_h743zi.rhai",
        include_str!("../../scripts/board/st_nucleo_h743zi.rhai"),
    ),
    (
        "board/stm32f3discovery.rhai",
        include_str!("../../scripts/board/stm32f3discovery.rhai"),
    ),
    (
        "board/st_nucleo_g4.rhai",
        include_str!("../../scripts/board/st_nucleo_g4.rhai"),
    ),
    (
        "board/st_nucleo_l4.rhai",
        include_str!("../../scripts/board/st_nucleo_l4.rhai"),
    ),
    (
        "board/sim-st_nucleo_g4.rhai",
        include_str!("../../scripts/board/sim-st_nucleo_g4.rhai"),
    ),
    (
        "board/sim-st_nucleo_l4.rhai",
        include_str!("../../scripts/board/sim-st_nucleo_l4.rhai"),
    ),
    (
        "board/st_nucleo_f103rb.rhai",
        include_str!("../../scripts/board/st_nucleo_f103rb.rhai"),
    ),
    (
        "targets/stm32g4x.rhai",
        include_str!("../../targets/stm32g4x.rhai"),
    ),
    (
        "targets/stm32l4x.rhai",
        include_str!("../../targets/stm32l4x.rhai"),
    ),
];

/// OpenOCD 0.12's configuration names that stdbg has a built-in equivalent of: (OpenOCD name
/// under its `scripts/` folder, built-in Rhai script). `-f`, `source` and `find` run the Rhai
/// script instead of reading OpenOCD's Tcl file, with an Info line saying so.
pub static OPENOCD_EQUIVALENTS: &[(&str, &str)] = &[
    ("interface/stlink.cfg", "interface/stlink.rhai"),
    ("interface/stlink-v2.cfg", "interface/stlink.rhai"),
    ("interface/stlink-v2-1.cfg", "interface/stlink.rhai"),
    ("interface/stlink-dap.cfg", "interface/stlink.rhai"),
    ("interface/cmsis-dap.cfg", "interface/cmsis-dap.rhai"),
    ("interface/jlink.cfg", "interface/jlink.rhai"),
    ("target/stm32f1x.cfg", "targets/stm32f1x.rhai"),
    ("target/stm32f3x.cfg", "targets/stm32f3x.rhai"),
    ("target/stm32g4x.cfg", "targets/stm32g4x.rhai"),
    ("target/stm32l4x.cfg", "targets/stm32l4x.rhai"),
    ("target/stm32h7x.cfg", "targets/stm32h7x.rhai"),
    (
        "target/stm32h7x_dual_bank.cfg",
        "targets/stm32h7x_dual_bank.rhai",
    ),
    ("board/stm32f103c8_blue_pill.cfg", "board/bluepill.rhai"),
    ("board/stm32f3discovery.cfg", "board/stm32f3discovery.rhai"),
    ("board/st_nucleo_f103rb.cfg", "board/st_nucleo_f103rb.rhai"),
    ("board/st_nucleo_g4.cfg", "board/st_nucleo_g4.rhai"),
    ("board/st_nucleo_l4.cfg", "board/st_nucleo_l4.rhai"),
    ("board/st_nucleo_h743zi.cfg", "board/st_nucleo_h743zi.rhai"),
];

/// The built-in equivalent of an OpenOCD configuration name: `interface/stlink.cfg`,
/// `target/stm32f1x.cfg`, also given as a path ending in OpenOCD's `scripts/` folder
/// (`/usr/share/openocd/scripts/target/stm32f1x.cfg`, as IDEs pass it) or with a leading
/// `scripts/`. `None` for other names (a user's own `.cfg` is read as Tcl).
pub fn openocd_equivalent(name: &str) -> Option<&'static str> {
    let name = name.replace('\\', "/");
    OPENOCD_EQUIVALENTS
        .iter()
        .find(|(cfg, _)| {
            name == *cfg
                || name
                    .strip_suffix(cfg)
                    .is_some_and(|pre| pre == "scripts/" || pre.ends_with("/scripts/"))
        })
        .map(|(_, rhai)| *rhai)
}

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

    /// The script text: at most [`MAX_SCRIPT_BYTES`], UTF-8 without NUL bytes; a leading UTF-8
    /// byte-order mark (which some Windows editors write) is dropped.
    pub fn read(&self) -> Result<String, ReadError> {
        let path = match self {
            ScriptSource::File(p) => p,
            ScriptSource::Embedded(_, text) => return Ok(text.to_string()),
        };
        let name = self.display_name();
        use std::io::Read;
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_SCRIPT_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|source| ReadError::Io {
                name: name.clone(),
                source,
            })?;
        if bytes.len() as u64 > MAX_SCRIPT_BYTES {
            return Err(ReadError::TooLarge { name });
        }
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let line_of = |at: usize| body[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        if let Some(at) = body.iter().position(|&b| b == 0) {
            return Err(ReadError::Nul {
                name,
                line: line_of(at),
            });
        }
        match std::str::from_utf8(body) {
            Ok(t) => Ok(t.to_string()),
            Err(e) => Err(ReadError::NotUtf8 {
                name,
                line: line_of(e.valid_up_to()),
                byte: e.valid_up_to(),
            }),
        }
    }
}

/// Largest script file stdbg reads: 4 MiB (configuration scripts are a few KiB).
pub const MAX_SCRIPT_BYTES: u64 = 4 << 20;

/// Why a script file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("can't read {name}: {source}; check the path and the file's permissions")]
    Io {
        /// The script's name.
        name: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is too large for a script.
    #[error(
        "{name} is larger than 4 MiB, which is not a configuration script (is it an image or a log?); check the file name"
    )]
    TooLarge {
        /// The script's name.
        name: String,
    },
    /// A NUL byte: a binary file.
    #[error(
        "{name} contains a NUL byte (line {line}): it is a binary file, not a Rhai script; check the file name (an image goes to 'program', not 'script')"
    )]
    Nul {
        /// The script's name.
        name: String,
        /// 1-based line of the first NUL.
        line: usize,
    },
    /// Not UTF-8.
    #[error(
        "{name} is not UTF-8 text: byte {byte} (line {line}) is not valid UTF-8; save the file as UTF-8 (scripts written in another encoding, e.g. Latin-1, must be converted: iconv -f latin1 -t utf-8)"
    )]
    NotUtf8 {
        /// The script's name.
        name: String,
        /// 1-based line.
        line: usize,
        /// Byte offset of the first invalid byte.
        byte: usize,
    },
}

/// Looks `name` up: absolute paths as they are; otherwise each `-s` directory, the current
/// directory, then the built-in set (`board/…`, `interface/…`, `targets/…`; a leading
/// `scripts/` is accepted too).
pub fn find(host: &Host, name: &str) -> Option<ScriptSource> {
    // What `find` returns for a built-in script.
    if let Some(key) = name.strip_prefix("<builtin>/") {
        return builtin(key);
    }
    if let Some(rhai) = openocd_equivalent(name) {
        tracing::info!(
            "{name}: running stdbg's built-in {rhai} (the equivalent of OpenOCD's file)"
        );
        return builtin(rhai);
    }
    // OpenOCD's folder is `target/`, stdbg's `targets/`: accept both.
    let alias = name
        .strip_prefix("target/")
        .map(|rest| format!("targets/{rest}"));
    let found = find_exact(host, name);
    match (found, alias) {
        (Some(f), _) => Some(f),
        (None, Some(a)) => find_exact(host, &a),
        (None, None) => None,
    }
}

fn builtin(key: &str) -> Option<ScriptSource> {
    EMBEDDED
        .iter()
        .find(|(n, _)| *n == key)
        .map(|(n, t)| ScriptSource::Embedded(n, t))
}

/// [`find`] of exactly `name`, without the OpenOCD names.
fn find_exact(host: &Host, name: &str) -> Option<ScriptSource> {
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
    builtin(name.strip_prefix("scripts/").unwrap_or(name))
}

/// Names of the built-in scripts.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    EMBEDDED.iter().map(|(n, _)| *n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn openocd_names_map_to_builtin_scripts() {
        assert_eq!(
            super::openocd_equivalent("target/stm32f1x.cfg"),
            Some("targets/stm32f1x.rhai")
        );
        assert_eq!(
            super::openocd_equivalent("/usr/share/openocd/scripts/board/st_nucleo_l4.cfg"),
            Some("board/st_nucleo_l4.rhai")
        );
        assert_eq!(
            super::openocd_equivalent("scripts/interface/stlink-dap.cfg"),
            Some("interface/stlink.rhai")
        );
        assert_eq!(
            super::openocd_equivalent("myboard/target/stm32f1x.cfg"),
            None
        );
        assert_eq!(super::openocd_equivalent("target/stm32f4x.cfg"), None);
        for (_, rhai) in super::OPENOCD_EQUIVALENTS {
            assert!(super::builtin(rhai).is_some(), "{rhai} is not built in");
        }
    }

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
