//! The GNU Arm toolchain as an independent oracle: `arm-none-eabi-as` for
//! `cortex-m7`/`fpv5-d16` says which spellings exist and how they encode,
//! `arm-none-eabi-objdump` how an encoding reads. A missing tool fails the
//! test with what to install (no silent skip).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use goblin::elf::Elf;

/// Runs `cmd`, panicking with an actionable message if the tool is missing.
pub(super) fn output(cmd: &mut Command) -> Output {
    let tool = cmd.get_program().to_string_lossy().into_owned();
    cmd.output().unwrap_or_else(|e| {
        panic!(
            "cannot run `{tool}` ({e}): this test needs the GNU Arm toolchain on PATH \
             (Debian/Ubuntu: apt-get install gcc-arm-none-eabi binutils-arm-none-eabi)"
        )
    })
}

/// A fresh scratch directory under the system temp dir, removed on drop.
pub(super) struct Scratch(pub(super) PathBuf);

impl Scratch {
    pub(super) fn new(tag: &str) -> Scratch {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "stdbg-vfp64-{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The bytes of section `name` of the ELF file at `path`.
pub(super) fn section(path: &Path, name: &str) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let elf = Elf::parse(&bytes).unwrap();
    let sh = elf
        .section_headers
        .iter()
        .find(|sh| elf.shdr_strtab.get_at(sh.sh_name) == Some(name))
        .unwrap_or_else(|| panic!("no {name} in {}", path.display()));
    bytes[sh.sh_offset as usize..(sh.sh_offset + sh.sh_size) as usize].to_vec()
}

/// Assembles `lines` (one 32-bit Thumb instruction each) for Cortex-M7 with
/// FPv5-D16. Returns, per line, its encoding (`hw1 << 16 | hw2`) or `None`
/// if `as` rejected the line (with warnings ignored).
pub(super) fn assemble(lines: &[String]) -> Vec<Option<u32>> {
    let dir = Scratch::new("as");
    let mut lines: Vec<String> = lines.to_vec();
    let mut rejected = vec![false; lines.len()];
    // Two passes at most: the first finds the rejected lines, which are then
    // replaced by a 32-bit NOP so every other line keeps its address.
    for _pass in 0..2 {
        let src = dir.0.join("t.s");
        let obj = dir.0.join("t.o");
        let mut text = String::from(".syntax unified\n.thumb\n");
        for l in &lines {
            text.push_str(l);
            text.push('\n');
        }
        std::fs::write(&src, text).unwrap();
        let out = output(
            Command::new("arm-none-eabi-as")
                .args(["-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mthumb", "-o"])
                .arg(&obj)
                .arg(&src),
        );
        if out.status.success() {
            let code = section(&obj, ".text");
            assert_eq!(
                code.len(),
                4 * lines.len(),
                "one 32-bit instruction per line"
            );
            return code
                .chunks(4)
                .zip(&rejected)
                .map(|(c, &bad)| {
                    let hw1 = u16::from_le_bytes([c[0], c[1]]);
                    let hw2 = u16::from_le_bytes([c[2], c[3]]);
                    (!bad).then_some((u32::from(hw1) << 16) | u32::from(hw2))
                })
                .collect();
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut any = false;
        for l in stderr.lines().filter(|l| l.contains(": Error: ")) {
            // "<file>:<line>: Error: ..."; line 1 and 2 are the directives.
            let n: usize = l
                .split(':')
                .nth(1)
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or_else(|| panic!("unexpected as output: {l}"));
            let i = n - 3;
            rejected[i] = true;
            lines[i] = "nop.w".into();
            any = true;
        }
        assert!(any, "as failed without a line error:\n{stderr}");
    }
    panic!("as still failing after replacing the rejected lines");
}

/// Disassembles 32-bit encodings with objdump; returns, per word, the text
/// after the address (mnemonic and operands, comments removed, whitespace
/// collapsed), e.g. `"vadd.f64 d1, d2, d3"` or `"<UNDEFINED>"`.
pub(super) fn disassemble(words: &[u32]) -> Vec<String> {
    let lines: Vec<String> = words.iter().map(|w| format!(".inst.w {w:#010x}")).collect();
    let dir = Scratch::new("objdump");
    let src = dir.0.join("w.s");
    let obj = dir.0.join("w.o");
    let mut text = String::from(".syntax unified\n.thumb\n.cpu cortex-m7\n.fpu fpv5-d16\n");
    for l in &lines {
        text.push_str(l);
        text.push('\n');
    }
    std::fs::write(&src, text).unwrap();
    let out = output(
        Command::new("arm-none-eabi-as")
            .args(["-mthumb", "-o"])
            .arg(&obj)
            .arg(&src),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = output(
        Command::new("arm-none-eabi-objdump")
            .args(["-d", "--no-show-raw-insn"])
            .arg(&obj),
    );
    assert!(out.status.success());
    let mut by_addr: HashMap<usize, String> = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((addr, rest)) = line.split_once(":\t") else {
            continue;
        };
        let Ok(addr) = usize::from_str_radix(addr.trim(), 16) else {
            continue;
        };
        let text = if rest.contains("<UNDEFINED>") {
            "<UNDEFINED>".to_string()
        } else {
            let code = rest.split(['@', ';']).next().unwrap_or("");
            code.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        by_addr.insert(addr, text);
    }
    (0..words.len())
        .map(|i| {
            by_addr
                .remove(&(4 * i))
                .unwrap_or_else(|| panic!("objdump printed nothing at {:#x}", 4 * i))
        })
        .collect()
}
