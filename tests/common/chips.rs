//! The table of the virtual chips of the `stm32f1x` (F3) and `stm32l4x` (G4, L4) families and the
//! helpers the family tests share (tests/family_chips.rs, tests/family_protection.rs): run the built
//! binary on a board with a storage file, read the chip's flash back through the sim's back door,
//! parse `mdw` output, look a symbol up in a firmware image.

use std::path::Path;
use std::process::Command;

use super::{Run, firmware};
use stdbg::sim::{ChipModel, Sim, SimConfig};

/// One board of the table.
pub struct Chip {
    /// Board script.
    pub board: &'static str,
    /// The virtual chip behind it.
    pub model: ChipModel,
    /// The blinky image.
    pub blinky: &'static str,
    /// `magic` of the blinky's result block (0x20000000).
    pub magic: u32,
    /// `syst_load` the blinky stores (HCLK / 1000 - 1).
    pub syst_load: u32,
    /// DBGMCU freeze register written at examine-end and the bits written (target script).
    pub freeze: (u32, u32),
    /// Whether the bank is an `stm32l4x` one (G4/L4) or `stm32f1x` (F3).
    pub l4x: bool,
}

pub const CHIPS: &[Chip] = &[
    Chip {
        board: "board/sim-stm32f3discovery.rhai",
        model: ChipModel::Stm32f303vc,
        blinky: "f303-blinky.elf",
        magic: 0x4C42_3346,
        syst_load: 7999,
        // DBGMCU_APB1_FZ |= DBG_IWDG_STOP | DBG_WWDG_STOP (targets/stm32f3x.rhai).
        freeze: (0xE004_2008, 0x0000_1800),
        l4x: false,
    },
    Chip {
        board: "board/sim-st_nucleo_g4.rhai",
        model: ChipModel::Stm32g474re,
        blinky: "g474-blinky.elf",
        magic: 0x4C42_3447,
        syst_load: 15999,
        // DBGMCU_APB1FZR1 |= DBG_IWDG_STOP | DBG_WWDG_STOP (targets/stm32g4x.rhai).
        freeze: (0xE004_2008, 0x0000_1800),
        l4x: true,
    },
    Chip {
        board: "board/sim-st_nucleo_l4.rhai",
        model: ChipModel::Stm32l476rg,
        blinky: "l476-blinky.elf",
        magic: 0x4C42_344C,
        syst_load: 3999,
        // DBGMCU_APB1FZR1 |= DBG_IWDG_STOP | DBG_WWDG_STOP (targets/stm32l4x.rhai).
        freeze: (0xE004_2008, 0x0000_1800),
        l4x: true,
    },
];

/// The address of `name` in `elf` (`arm-none-eabi-nm`); fails loudly without the tool.
pub fn sym(elf: &str, name: &str) -> u32 {
    let out = Command::new("arm-none-eabi-nm")
        .arg(firmware(elf))
        .output()
        .expect(
            "arm-none-eabi-nm is required by the tests: apt-get install binutils-arm-none-eabi",
        );
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| {
            let mut it = l.split_whitespace();
            let (a, _, n) = (it.next()?, it.next()?, it.next()?);
            (n == name).then(|| u32::from_str_radix(a, 16).ok())?
        })
        .unwrap_or_else(|| panic!("{name} not in {elf}:\n{text}"))
}

/// Runs `stdbg -c "sim storage <storage>" -f <board> -c QUIET -c <cmds>` in `dir`.
pub fn run(dir: &Path, c: &Chip, storage: &Path, cmds: &str) -> Run {
    super::stored_board_run(dir, c.board, storage, cmds)
}

/// `program <blinky> verify` command text (absolute path).
pub fn program(elf: &str) -> String {
    format!("program {} verify", firmware(elf).display())
}

/// `len` bytes of main flash of the chip kept in `storage`, through the virtual chip's back door.
pub fn flash_of(c: &Chip, storage: &Path, addr: u32, len: usize) -> Vec<u8> {
    let sim = Sim::new(SimConfig {
        chip: c.model,
        storage: Some(storage.to_path_buf()),
    })
    .expect("virtual chip");
    sim.read_nonvolatile(addr, len)
}

/// The words `mdw` printed for `addr` (the first line starting with `0x<addr>:`).
pub fn words_at(out: &str, addr: u32) -> Vec<u32> {
    let head = format!("0x{addr:08x}:");
    let mut words = Vec::new();
    let lines = out.lines().skip_while(|l| !l.starts_with(&head));
    let mut expect = addr;
    for l in lines {
        let Some(rest) = l.strip_prefix(&format!("0x{expect:08x}:")) else {
            break;
        };
        let w: Vec<u32> = rest
            .split_whitespace()
            .map(|w| u32::from_str_radix(w, 16).unwrap())
            .collect();
        expect += 4 * w.len() as u32;
        words.extend(w);
    }
    assert!(!words.is_empty(), "no mdw output at 0x{addr:08x}:\n{out}");
    words
}
