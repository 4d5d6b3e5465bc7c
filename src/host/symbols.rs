//! The symbols of the last ELF programmed or loaded (`program`,
//! `load_image`, `flash write_image`, `verify_image`): function names and
//! source lines for the fault decode (`diagnose::fault`), from the ELF's DWARF
//! line tables (addr2line) or, without debug information, its symbol table.

use std::path::{Path, PathBuf};

/// A symbolizer for one ELF file.
pub struct Symbols {
    path: PathBuf,
    loader: addr2line::Loader,
    /// Address ranges of the ELF's executable segments: only code is named.
    code: Vec<std::ops::Range<u64>>,
}

impl std::fmt::Debug for Symbols {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Symbols({})", self.path.display())
    }
}

impl Symbols {
    /// Loads `path`; `None` if it is not an ELF addr2line can read.
    pub fn load(path: &Path) -> Option<Symbols> {
        let loader = addr2line::Loader::new(path).ok()?;
        let bytes = std::fs::read(path).ok()?;
        let elf = goblin::elf::Elf::parse(&bytes).ok()?;
        let code = elf
            .program_headers
            .iter()
            .filter(|ph| ph.p_type == goblin::elf::program_header::PT_LOAD && ph.is_executable())
            .map(|ph| ph.p_vaddr..ph.p_vaddr + ph.p_memsz)
            .collect();
        Some(Symbols {
            path: path.to_path_buf(),
            loader,
            code,
        })
    }

    /// The file the symbols come from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `function (file.c:line)` for the code at `addr` (Thumb bit ignored):
    /// the function from the debug information (the outermost of inlined
    /// frames) or the symbol table, the line from the line table. `None`
    /// when the address is in neither.
    pub fn describe(&self, addr: u32) -> Option<String> {
        let a = u64::from(addr & !1);
        if !self.code.iter().any(|r| r.contains(&a)) {
            return None;
        }
        let mut function: Option<String> = None;
        if let Ok(mut frames) = self.loader.find_frames(a) {
            while let Ok(Some(f)) = frames.next() {
                if let Some(name) = f.function.as_ref().and_then(|n| n.demangle().ok()) {
                    function = Some(name.into_owned());
                }
            }
        }
        if function.is_none() {
            function = self.loader.find_symbol(a).map(str::to_string);
        }
        let line = self.loader.find_location(a).ok().flatten().and_then(|l| {
            let file = Path::new(l.file?)
                .file_name()?
                .to_string_lossy()
                .into_owned();
            Some(format!("{file}:{}", l.line?))
        });
        match (function, line) {
            (Some(f), Some(l)) => Some(format!("{f} ({l})")),
            (Some(f), None) => Some(f),
            (None, Some(l)) => Some(format!("({l})")),
            (None, None) => None,
        }
    }
}
