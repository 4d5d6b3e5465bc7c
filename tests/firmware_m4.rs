//! Static checks of the Cortex-M4F flash images in `tests/firmware/`
//! (STM32F303VC, STM32G474RE, STM32L476RG; `tests/firmware/README.md`,
//! "Cortex-M4F flash images"): the vector table has the initial SP, the reset
//! vector and exactly the IRQ count of the chip's reference-manual vector
//! table, reserved slots 0; the result blocks sit at 0x2000_0000; the reset
//! handler uses no FP register before it enables the FPU; `main` contains the
//! register constants README.md documents.  Behaviour on the virtual chips is
//! tested where the F3/G4/L4 SoC models are.
//!
//! Symbols and bytes come from the ELF (goblin); the disassembly from
//! `arm-none-eabi-objdump`, which must be installed (the test fails and says
//! what to install otherwise).  Rebuild equality is `firmware_rebuild.rs`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One Cortex-M4F flash image (startup_m4.c, m4_sections.ld) and what its
/// chip's reference manual fixes about it.
struct M4Image {
    elf: &'static str,
    /// Flash size in bytes, from 0x0800_0000.
    flash: u32,
    /// Initial SP: the top of the main SRAM (SRAM1 on the G4/L4).
    estack: u32,
    /// Peripheral vectors in the RM's vector table (RM0316 Table 82,
    /// RM0440 Table 97, RM0351 Table 58).
    irqs: usize,
    /// IRQ positions the table marks reserved (word 0 in the image).
    reserved: &'static [usize],
    /// The result-block symbol at 0x2000_0000 and its size in bytes.
    result: (&'static str, u32),
    /// Constants main must contain (as a literal-pool word or an
    /// immediate): see README.md for each.
    constants: &'static [u32],
}

const F303_RESERVED: [usize; 16] = [
    48, 49, 50, 62, 63, 67, 68, 69, 70, 71, 72, 73, 77, 78, 79, 80,
];

/// Constants of main: in the blinky images the result block, the RCC base,
/// RESULT_DONE, the image tag, SYST_RVR (HCLK / 1000 - 1), USART_BRR
/// (HCLK / 115200, rounded) and the LED port's base; in the FPU images the
/// result block, RESULT_DONE, the part tag and the SCB base.
const M4_IMAGES: [M4Image; 7] = [
    M4Image {
        elf: "f303-blinky.elf",
        flash: 256 << 10,
        estack: 0x2000_A000,
        irqs: 82,
        reserved: &F303_RESERVED,
        result: ("blinky_result", 0x64),
        constants: &[
            0x2000_0000,
            0x4002_1000,
            0x600D_D0E5,
            0x4C42_3346,
            7999,
            69,
            0x4800_1000,
        ],
    },
    M4Image {
        elf: "g474-blinky.elf",
        flash: 512 << 10,
        estack: 0x2001_4000,
        irqs: 102,
        reserved: &[85],
        result: ("blinky_result", 0x64),
        constants: &[
            0x2000_0000,
            0x4002_1000,
            0x600D_D0E5,
            0x4C42_3447,
            15999,
            139,
            0x4800_0000,
        ],
    },
    M4Image {
        elf: "l476-blinky.elf",
        flash: 1 << 20,
        estack: 0x2001_8000,
        irqs: 82,
        reserved: &[79],
        result: ("blinky_result", 0x64),
        constants: &[
            0x2000_0000,
            0x4002_1000,
            0x600D_D0E5,
            0x4C42_344C,
            3999,
            35,
            0x4800_0000,
        ],
    },
    M4Image {
        elf: "g474-swd-off.elf",
        flash: 512 << 10,
        estack: 0x2001_4000,
        irqs: 102,
        reserved: &[85],
        result: ("blinky_result", 0x64),
        constants: &[
            0x2000_0000,
            0x4002_1000,
            0x600D_D0E5,
            0x5753_3447,
            15999,
            139,
            0x4800_0000,
        ],
    },
    M4Image {
        elf: "f303-fpu-flash.elf",
        flash: 256 << 10,
        estack: 0x2000_A000,
        irqs: 82,
        reserved: &F303_RESERVED,
        result: ("fpu_result", 0x1A0),
        constants: &[0x2000_0000, 0x600D_D0E5, 0x3330_3346, 0xE000_ED00],
    },
    M4Image {
        elf: "g474-fpu.elf",
        flash: 512 << 10,
        estack: 0x2001_4000,
        irqs: 102,
        reserved: &[85],
        result: ("fpu_result", 0x1A0),
        constants: &[0x2000_0000, 0x600D_D0E5, 0x3437_3447, 0xE000_ED00],
    },
    M4Image {
        elf: "l476-fpu.elf",
        flash: 1 << 20,
        estack: 0x2001_8000,
        irqs: 82,
        reserved: &[79],
        result: ("fpu_result", 0x1A0),
        constants: &[0x2000_0000, 0x600D_D0E5, 0x3637_344C, 0xE000_ED00],
    },
];

fn firmware(elf: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("firmware")
        .join(elf)
}

/// An image's symbols (name -> (address, size)) and a reader of its
/// loadable bytes by address.
struct Image {
    name: &'static str,
    bytes: Vec<u8>,
    syms: HashMap<String, (u32, u32)>,
    /// (address, file offset, size) of every section with file contents.
    sections: Vec<(u32, usize, usize)>,
    entry: u32,
    load_end: u32,
}

impl Image {
    fn load(name: &'static str) -> Image {
        let path = firmware(name);
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let elf = goblin::elf::Elf::parse(&bytes)
            .unwrap_or_else(|e| panic!("{} is not a valid ELF: {e}", path.display()));
        let mut syms = HashMap::new();
        for s in elf.syms.iter() {
            if let Some(n) = elf.strtab.get_at(s.st_name)
                && !n.is_empty()
            {
                syms.insert(n.to_string(), (s.st_value as u32, s.st_size as u32));
            }
        }
        let sections = elf
            .section_headers
            .iter()
            .filter(|h| h.sh_type == goblin::elf::section_header::SHT_PROGBITS && h.sh_addr != 0)
            .map(|h| (h.sh_addr as u32, h.sh_offset as usize, h.sh_size as usize))
            .collect();
        let entry = elf.entry as u32;
        let load_end = elf
            .program_headers
            .iter()
            .filter(|p| p.p_type == goblin::elf::program_header::PT_LOAD && p.p_filesz > 0)
            .map(|p| (p.p_paddr + p.p_filesz) as u32)
            .max()
            .unwrap_or(0);
        Image {
            name,
            bytes,
            syms,
            sections,
            entry,
            load_end,
        }
    }

    fn sym(&self, n: &str) -> (u32, u32) {
        *self
            .syms
            .get(n)
            .unwrap_or_else(|| panic!("{}: symbol `{n}` missing", self.name))
    }

    fn addr(&self, n: &str) -> u32 {
        self.sym(n).0
    }

    /// The little-endian word at `addr`, from the section holding it.
    fn word(&self, addr: u32) -> u32 {
        let &(base, off, _) = self
            .sections
            .iter()
            .find(|&&(b, _, s)| addr >= b && addr + 4 <= b + s as u32)
            .unwrap_or_else(|| panic!("{}: no loaded bytes at {addr:#010x}", self.name));
        let at = off + (addr - base) as usize;
        u32::from_le_bytes(self.bytes[at..at + 4].try_into().unwrap())
    }

    /// The end of the highest load address (LMA, so `.data`'s image in
    /// flash counts, not its RAM address).
    fn load_end(&self) -> u32 {
        self.load_end
    }
}

/// The disassembly lines of function `func` (`objdump -d`, up to the next
/// blank line).
fn disassembly_of(img: &Image, func: &str) -> Vec<String> {
    let out = Command::new("arm-none-eabi-objdump")
        .arg("-d")
        .arg(firmware(img.name))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run arm-none-eabi-objdump ({e}); this test needs it on PATH \
                 (Debian/Ubuntu: apt-get install binutils-arm-none-eabi)"
            )
        });
    assert!(
        out.status.success(),
        "objdump failed on {}: {}",
        img.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let header = format!("<{func}>:");
    let lines: Vec<String> = text
        .lines()
        .skip_while(|l| !l.ends_with(&header))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    assert!(
        !lines.is_empty(),
        "{}: no function `{func}` in the disassembly",
        img.name
    );
    lines
}

/// True if `value` occurs in `lines` as a literal word or an immediate.
fn has_constant(lines: &[String], value: u32) -> bool {
    let word = format!(".word\t{value:#010x}");
    let imm = format!("#{value}");
    lines
        .iter()
        .any(|l| l.contains(&word) || l.split([',', '\t', ' ']).any(|t| t == imm))
}

#[test]
fn m4_flash_images_vector_tables_and_result_blocks() {
    for spec in &M4_IMAGES {
        let img = Image::load(spec.elf);
        let name = spec.elf;
        let in_flash = |a: u32| (0x0800_0000..0x0800_0000 + spec.flash).contains(&a);

        let (vt, vt_size) = img.sym("vector_table");
        assert_eq!(vt, 0x0800_0000, "{name}: vector_table must start flash");
        assert_eq!(
            vt_size as usize,
            4 * (16 + spec.irqs),
            "{name}: vector table of {} words, expected 16 + {} IRQs",
            vt_size / 4,
            spec.irqs
        );
        let end = img.load_end();
        assert!(
            in_flash(end - 1),
            "{name}: image ends at {end:#010x}, past flash"
        );
        let vector = |i: usize| img.word(0x0800_0000 + 4 * i as u32);
        assert_eq!(vector(0), spec.estack, "{name}: vector 0 (initial SP)");
        let reset = img.addr("Reset_Handler");
        assert_eq!(
            vector(1),
            reset | 1,
            "{name}: vector 1 (Reset_Handler, Thumb)"
        );
        assert!(
            in_flash(reset),
            "{name}: Reset_Handler at {reset:#010x} outside flash"
        );
        assert_eq!(img.entry, reset | 1, "{name}: ELF entry point");
        let default = img.addr("Default_Handler") | 1;
        for i in 2..16 + spec.irqs {
            let v = vector(i);
            let irq = i.checked_sub(16);
            let reserved =
                matches!(i, 7..=10 | 13) || irq.is_some_and(|n| spec.reserved.contains(&n));
            if reserved {
                assert_eq!(v, 0, "{name}: vector {i} is reserved and must be 0");
            } else if let Some(n) = irq {
                assert_eq!(v, default, "{name}: IRQ {n} should be Default_Handler");
            } else {
                assert!(
                    v & 1 == 1 && in_flash(v & !1),
                    "{name}: vector {i} = {v:#010x}"
                );
            }
        }
        if spec.result.0 == "blinky_result" {
            assert_eq!(
                vector(15),
                img.addr("SysTick_Handler") | 1,
                "{name}: SysTick vector"
            );
        } else {
            assert_eq!(
                vector(3),
                img.addr("HardFault_Handler") | 1,
                "{name}: HardFault vector"
            );
            assert_eq!(
                img.sym("fpu_extra"),
                (0x2000_01A0, 0x10),
                "{name}: fpu_extra"
            );
            assert!(in_flash(img.addr("float_done")), "{name}: float_done");
        }

        assert_eq!(
            img.sym(spec.result.0),
            (0x2000_0000, spec.result.1),
            "{name}: `{}` (address, size)",
            spec.result.0
        );
        assert_eq!(
            img.addr("result_header"),
            0x2000_0000,
            "{name}: result_header"
        );
        assert_eq!(img.addr("_estack"), spec.estack, "{name}: _estack");

        // Nothing touches an FP register before CPACR enables the FPU: the
        // reset handler has no FP instruction at all.
        let reset_code = disassembly_of(&img, "Reset_Handler");
        let fp: Vec<&String> = reset_code
            .iter()
            .filter(|l| l.split('\t').nth(2).is_some_and(|m| m.starts_with('v')))
            .collect();
        assert!(
            fp.is_empty(),
            "{name}: FP instructions in Reset_Handler: {fp:?}"
        );
        let main = disassembly_of(&img, "main");
        for &c in spec.constants {
            assert!(
                has_constant(&main, c),
                "{name}: main has no constant {c:#x} ({c})"
            );
        }
    }
}
