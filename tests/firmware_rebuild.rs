//! Checks that the committed test firmware in `tests/firmware/` is what its
//! sources build to, and that the images have the layout the debugger tests
//! rely on (blinky's symbols; the result blocks, vector tables and entry
//! points of the HAL-style and FPU images, see `tests/firmware/README.md`;
//! the layout of the Cortex-M4F flash images is checked by `firmware_m4.rs`, that of the
//! STM32H743 flash images by `h743_firmware.rs`).
//!
//! This needs the ARM cross toolchain (`arm-none-eabi-gcc`, `-objcopy`,
//! `-nm`), newlib for it (the FPU images link its string functions) and GNU
//! make.  It does not skip when they are missing: it fails and says what to
//! install (CI installs `gcc-arm-none-eabi`, which recommends newlib).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const ELFS: [&str; 30] = [
    "f103-blinky.elf",
    "f103-itm.elf",
    "f103-big.elf",
    "f103-too-big.elf",
    "f103-swd-off.elf",
    "f103-stop.elf",
    "f103-iwdg.elf",
    "f103-hal.elf",
    "f103-irq.elf",
    "f103-rtos.elf",
    "f103-faults.elf",
    "f103-usart.elf",
    "f103-semihost.elf",
    "f303-fpu.elf",
    "h743-fpu.elf",
    "f303-blinky.elf",
    "g474-blinky.elf",
    "l476-blinky.elf",
    "g474-fpu.elf",
    "l476-fpu.elf",
    "f303-fpu-flash.elf",
    "g474-swd-off.elf",
    "h743-swd-off.elf",
    "h743-stop.elf",
    "h743-standby.elf",
    "h743-blinky.elf",
    "h743-fpu-flash.elf",
    "h743-itm.elf",
    // RTT and defmt (tests/target_io_rtt.rs).
    "f103-rtt.elf",
    "f103-defmt.elf",
];

/// The STM32F103 images built on `startup_stm32f103xb.c` and `f103_app.ld`,
/// with the symbol of the result block each keeps at 0x20000000.
const APP_IMAGES: [(&str, &str); 5] = [
    ("f103-hal.elf", "hal_result"),
    ("f103-irq.elf", "irq_result"),
    ("f103-rtos.elf", "rtos_result"),
    ("f103-faults.elf", "fault_result"),
    ("f103-usart.elf", "usart_result"),
];

/// The RAM-loaded FPU images and the top of their stack (`_estack`).
const FPU_IMAGES: [(&str, u32); 2] = [("f303-fpu.elf", 0x2000_A000), ("h743-fpu.elf", 0x2002_0000)];

fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("firmware")
}

/// Panics with an actionable message if `tool` cannot be run.
fn require_tool(tool: &str, version_arg: &str) {
    match Command::new(tool).arg(version_arg).output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "`{tool} {version_arg}` failed ({}); the firmware tests need a working {tool}.\n\
             Install the ARM cross toolchain and GNU make \
             (Debian/Ubuntu: apt-get install gcc-arm-none-eabi binutils-arm-none-eabi \
             libnewlib-arm-none-eabi make).\n\
             stderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!(
            "cannot run `{tool}` ({e}); the firmware tests need it on PATH.\n\
             Install the ARM cross toolchain and GNU make \
             (Debian/Ubuntu: apt-get install gcc-arm-none-eabi binutils-arm-none-eabi \
             libnewlib-arm-none-eabi make)."
        ),
    }
}

fn require_toolchain() {
    require_tool("make", "--version");
    require_tool("arm-none-eabi-gcc", "--version");
    require_tool("arm-none-eabi-objcopy", "--version");
    require_tool("arm-none-eabi-nm", "--version");
    require_newlib();
}

/// Panics with an actionable message unless the compiler finds newlib's
/// `libc.a` for the Cortex-M4F and Cortex-M7 multilibs the FPU images use.
fn require_newlib() {
    for flags in [
        ["-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16"],
        ["-mcpu=cortex-m7", "-mfpu=fpv5-d16"],
    ] {
        let out = run(Command::new("arm-none-eabi-gcc").args(flags).args([
            "-mthumb",
            "-mfloat-abi=hard",
            "-print-file-name=libc.a",
        ]));
        let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            Path::new(&path).is_file(),
            "arm-none-eabi-gcc {} finds no newlib libc.a (it printed `{path}`); the FPU test \
             images link newlib's string functions.\n\
             Install newlib for the cross compiler \
             (Debian/Ubuntu: apt-get install libnewlib-arm-none-eabi).",
            flags.join(" ")
        );
    }
}

/// Runs a command and panics with its output if it fails.
fn run(cmd: &mut Command) -> Output {
    let desc = format!("{cmd:?}");
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {desc}: {e}"));
    if !out.status.success() {
        panic!(
            "{desc} failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "stdbg-{tag}-{}-{nanos}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The loadable bytes of `elf`, as produced by `objcopy -O binary` into `out`.
fn objcopy_binary(elf: &Path, out: &Path) -> Vec<u8> {
    run(Command::new("arm-none-eabi-objcopy")
        .arg("-O")
        .arg("binary")
        .arg(elf)
        .arg(out));
    fs::read(out).unwrap_or_else(|e| panic!("cannot read {}: {e}", out.display()))
}

#[test]
fn committed_firmware_matches_rebuild() {
    require_toolchain();
    let src = firmware_dir();
    let tmp = TempDir::new("fw-rebuild");
    let build = tmp.path().join("build");
    fs::create_dir_all(&build).unwrap();

    run(Command::new("make")
        .arg("-C")
        .arg(&src)
        .arg(format!("BUILD={}", build.display())));

    let mut mismatches = Vec::new();
    for elf in ELFS {
        let committed = src.join(elf);
        let rebuilt = build.join(elf);
        assert!(
            committed.is_file(),
            "committed firmware {} is missing",
            committed.display()
        );
        assert!(
            rebuilt.is_file(),
            "make did not produce {}",
            rebuilt.display()
        );
        let a = objcopy_binary(&committed, &tmp.path().join(format!("{elf}.committed.bin")));
        let b = objcopy_binary(&rebuilt, &tmp.path().join(format!("{elf}.rebuilt.bin")));
        if a != b {
            let first = a.iter().zip(&b).position(|(x, y)| x != y);
            mismatches.push(format!(
                "{elf}: committed {} bytes, rebuilt {} bytes, first difference at offset {}",
                a.len(),
                b.len(),
                first.map_or("(length only)".to_string(), |o| format!("{o:#x}"))
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "the committed firmware differs from a rebuild of tests/firmware \
         (rebuild with `make -C tests/firmware` and commit the ELFs):\n  {}",
        mismatches.join("\n  ")
    );
}

/// (name, address, nm type letter) of every symbol, from `arm-none-eabi-nm`.
fn symbols(elf: &Path) -> Vec<(String, u32, char)> {
    let out = run(Command::new("arm-none-eabi-nm").arg(elf));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut f = line.split_whitespace();
            let addr = u32::from_str_radix(f.next()?, 16).ok()?;
            let kind = f.next()?.chars().next()?;
            let name = f.next()?.to_string();
            Some((name, addr, kind))
        })
        .collect()
}

#[test]
fn blinky_symbols_and_vector_table() {
    require_toolchain();
    let elf = firmware_dir().join("f103-blinky.elf");
    let syms = symbols(&elf);
    let addr_of = |name: &str| -> u32 {
        syms.iter()
            .find(|(n, _, _)| n == name)
            .map(|&(_, a, _)| a)
            .unwrap_or_else(|| panic!("symbol `{name}` missing from {}", elf.display()))
    };

    for func in ["main", "delay", "toggle_led", "Reset_Handler"] {
        let a = addr_of(func);
        assert!(
            (0x0800_0000..0x0801_0000).contains(&a),
            "`{func}` at {a:#010x} is not in the 64 KiB flash"
        );
    }
    let counter = addr_of("counter");
    assert!(
        (0x2000_0000..0x2000_5000).contains(&counter),
        "`counter` at {counter:#010x} is not in the 20 KiB RAM"
    );
    let kind = syms.iter().find(|(n, _, _)| n == "counter").unwrap().2;
    assert!(
        kind.eq_ignore_ascii_case(&'b'),
        "`counter` should be in .bss, nm says `{kind}`"
    );
    assert_eq!(
        addr_of("vector_table"),
        0x0800_0000,
        "the vector table must start flash"
    );

    let tmp = TempDir::new("fw-vectors");
    let bin = objcopy_binary(&elf, &tmp.path().join("blinky.bin"));
    assert!(bin.len() >= 8, "blinky image is only {} bytes", bin.len());
    let word = |i: usize| u32::from_le_bytes(bin[4 * i..4 * i + 4].try_into().unwrap());
    assert_eq!(
        word(0),
        0x2000_5000,
        "vector 0 (initial SP) is {:#010x}, expected 0x20005000",
        word(0)
    );
    let reset = addr_of("Reset_Handler");
    assert_eq!(
        word(1),
        reset | 1,
        "vector 1 (reset) is {:#010x}, expected Reset_Handler {reset:#010x} with the Thumb bit",
        word(1)
    );
    assert_eq!(word(1) & 1, 1, "reset vector must have the Thumb bit set");
}

/// `name`'s address in `syms`, or a panic naming the image.
fn addr_in(syms: &[(String, u32, char)], elf: &Path, name: &str) -> u32 {
    syms.iter()
        .find(|(n, _, _)| n == name)
        .map(|&(_, a, _)| a)
        .unwrap_or_else(|| panic!("symbol `{name}` missing from {}", elf.display()))
}

/// Little-endian word `i` of `bin`.
fn word_at(bin: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(bin[4 * i..4 * i + 4].try_into().unwrap())
}

#[test]
fn app_images_keep_results_at_ram_start() {
    require_toolchain();
    let tmp = TempDir::new("fw-apps");
    for (image, result) in APP_IMAGES {
        let elf = firmware_dir().join(image);
        let syms = symbols(&elf);
        for name in [result, "result_header"] {
            assert_eq!(
                addr_in(&syms, &elf, name),
                0x2000_0000,
                "{image}: `{name}` must be at 0x20000000, where the tests read it"
            );
        }
        assert_eq!(
            addr_in(&syms, &elf, "g_pfnVectors"),
            0x0800_0000,
            "{image}: vector table"
        );
        let bin = objcopy_binary(&elf, &tmp.path().join(format!("{image}.bin")));
        assert_eq!(
            word_at(&bin, 0),
            0x2000_5000,
            "{image}: vector 0 (initial SP)"
        );
        let reset = addr_in(&syms, &elf, "Reset_Handler");
        assert_eq!(
            word_at(&bin, 1),
            reset | 1,
            "{image}: vector 1 (Reset_Handler, Thumb)"
        );
    }
}

#[test]
fn fpu_images_start_at_ram_base() {
    require_toolchain();
    for (image, estack) in FPU_IMAGES {
        let elf = firmware_dir().join(image);
        let bytes = fs::read(&elf).unwrap_or_else(|e| panic!("cannot read {}: {e}", elf.display()));
        assert!(bytes.len() > 28, "{image} is only {} bytes", bytes.len());
        let entry = u32::from_le_bytes(bytes[24..28].try_into().unwrap());
        assert_eq!(
            entry, 0x2000_0001,
            "{image}: ELF entry must be _start at 0x20000000 (Thumb)"
        );
        let syms = symbols(&elf);
        let at = |name: &str| addr_in(&syms, &elf, name);
        assert_eq!(at("_start"), 0x2000_0000, "{image}: _start");
        assert_eq!(at("fpu_result"), 0x2000_0100, "{image}: fpu_result");
        assert_eq!(
            at("ram_vectors"),
            0x2000_0400,
            "{image}: ram_vectors (VTOR)"
        );
        assert_eq!(at("_estack"), estack, "{image}: _estack");
        for name in ["fpu_done_bkpt", "fpu_fault_bkpt", "Default_Handler"] {
            let a = at(name);
            assert!(
                (0x2000_0000..estack).contains(&a),
                "{image}: `{name}` at {a:#010x} is outside RAM"
            );
        }
    }
}

/// Assembles `src` (a path in the repository) for the Cortex-M3 and asserts its bytes are
/// `expected`.
fn assert_assembles_to(src: &str, expected: &[u8]) {
    require_tool("arm-none-eabi-as", "--version");
    require_tool("arm-none-eabi-objcopy", "--version");
    let tmp = TempDir::new("routine");
    let obj = tmp.path().join("routine.o");
    run(Command::new("arm-none-eabi-as")
        .args(["-mcpu=cortex-m3", "-mthumb"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(src))
        .arg("-o")
        .arg(&obj));
    let bin = objcopy_binary(&obj, &tmp.path().join("routine.bin"));
    assert_eq!(bin, expected.to_vec(), "{src} assembles to other bytes");
}

/// The CRC routine verify runs on the target (`stdbg::flashing::crc::ROUTINE`) is what its
/// source `src/flashing/crc32.S` assembles to.
#[test]
fn crc_routine_matches_its_source() {
    assert_assembles_to("src/flashing/crc32.S", &stdbg::flashing::crc::ROUTINE);
}

/// The erase loop the lean flash path runs on the target (`stdbg::flashing::lean::ERASE_LOOP`)
/// is what its source `src/flashing/erase_loop.S` assembles to.
#[test]
fn erase_loop_matches_its_source() {
    assert_assembles_to(
        "src/flashing/erase_loop.S",
        &stdbg::flashing::lean::ERASE_LOOP,
    );
}
