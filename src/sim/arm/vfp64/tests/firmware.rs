//! End to end: `src/sim/arm/testdata/vfp64/dp.c`, built for the Cortex-M7 with
//! FPv5-D16 (`dp-m7.elf`, committed), runs on rsemu with this layer stepped
//! in front of it; its results must be bit-identical to the same C built and
//! run on the host. A second test checks the committed ELF is what the
//! sources build to. Both need tools (`make`, `cc`, `arm-none-eabi-gcc`) and
//! fail with what to install when one is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use goblin::elf::Elf;
use goblin::elf::program_header::PT_LOAD;
use rsemu::core::space::RamStore;
use rsemu::cpu::arm::v7m::{ArmV7m, Config};

use super::gnu::{Scratch, assemble, output};
use super::harness::{ENTRY, RAM, core, ram_with_vectors, run_until, space};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sim/arm/testdata/vfp64")
}

/// `make -C testdata BUILD=<dir> <target>`; panics with the tool's output.
fn make(dir: &Path, target: &str) {
    let out = output(
        Command::new("make")
            .arg("-s")
            .arg("-C")
            .arg(testdata())
            .arg(format!("BUILD={}", dir.display()))
            .arg(target),
    );
    assert!(
        out.status.success(),
        "make {target} failed (needs make, cc and arm-none-eabi-gcc; Debian/Ubuntu: \
         apt-get install make gcc gcc-arm-none-eabi):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An ELF image: its loadable segments and its symbols.
struct Image {
    segments: Vec<(u32, Vec<u8>)>,
    symbols: Vec<(String, u32)>,
}

impl Image {
    fn load(path: &Path) -> Image {
        let bytes =
            std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let elf = Elf::parse(&bytes).unwrap();
        let segments = elf
            .program_headers
            .iter()
            .filter(|ph| ph.p_type == PT_LOAD && ph.p_filesz > 0)
            .map(|ph| {
                let off = ph.p_offset as usize;
                (
                    ph.p_paddr as u32,
                    bytes[off..off + ph.p_filesz as usize].to_vec(),
                )
            })
            .collect();
        let symbols = elf
            .syms
            .iter()
            .filter_map(|s| Some((elf.strtab.get_at(s.st_name)?.to_string(), s.st_value as u32)))
            .collect();
        Image { segments, symbols }
    }

    fn symbol(&self, name: &str) -> u32 {
        self.symbols
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no symbol {name}"))
            .1
    }
}

fn read_u64(ram: &RamStore, addr: u32) -> u64 {
    let mut b = [0u8; 8];
    ram.read_at(u64::from(addr), &mut b).unwrap();
    u64::from_le_bytes(b)
}

#[test]
fn m7_double_precision_routine_matches_the_host() {
    let image = Image::load(&testdata().join("dp-m7.elf"));
    let ram = Arc::new(RamStore::new(RAM));
    for (addr, bytes) in &image.segments {
        ram.write_at(u64::from(*addr), bytes).unwrap();
    }
    let cpu = ArmV7m::new(Config::CORTEX_M7F);
    cpu.attach_space(space(&ram));
    cpu.step(); // reset: SP and PC from the image's vector table
    // The firmware enables CP10/CP11 itself (CPACR), as a real start-up does.
    let done = image.symbol("dp_done") & !1;
    let steps = run_until(&cpu, &ram, done, 10_000_000);

    let mut count = [0u8; 4];
    ram.read_at(u64::from(image.symbol("dp_count")), &mut count)
        .unwrap();
    let count = u32::from_le_bytes(count);
    let out = image.symbol("dp_out");
    let target: Vec<u64> = (0..count).map(|i| read_u64(&ram, out + 8 * i)).collect();

    let dir = Scratch::new("host");
    make(&dir.0, "host");
    let run = output(&mut Command::new(dir.0.join("dp-host")));
    assert!(run.status.success());
    let host: Vec<u64> = String::from_utf8_lossy(&run.stdout)
        .lines()
        .map(|l| u64::from_str_radix(l, 16).unwrap())
        .collect();

    assert_eq!(target.len(), host.len(), "result count");
    let bad: Vec<String> = target
        .iter()
        .zip(&host)
        .enumerate()
        .filter(|(_, (t, h))| t != h)
        .map(|(i, (t, h))| format!("out[{i}]: m7 {t:#018x}, host {h:#018x}"))
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {count} differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
    eprintln!(
        "dp-m7.elf: {count} results bit-identical to the host; {} instructions by \
         rsemu, {} double-precision by vfp64 ({} skipped by IT)",
        steps.rsemu, steps.ours, steps.skipped
    );
    assert!(count > 800 && steps.ours > 2_000, "the routine really ran");
}

#[test]
fn committed_m7_image_matches_a_rebuild() {
    let dir = Scratch::new("rebuild");
    make(&dir.0, "all");
    let committed = Image::load(&testdata().join("dp-m7.elf"));
    let rebuilt = Image::load(&dir.0.join("dp-m7.elf"));
    assert!(
        committed.segments == rebuilt.segments,
        "src/sim/arm/testdata/vfp64/dp-m7.elf differs from a build of its sources \
         (rebuild with `make -C src/sim/arm/testdata/vfp64` and commit it)"
    );
}

#[test]
fn it_block_steers_double_precision_instructions() {
    let lines = [
        "vadd.f64 d0, d1, d2",
        "vmov r0, r1, d0",
        "vsub.f64 d3, d1, d2",
        "vmov.f64 d4, #1.0",
    ]
    .map(String::from);
    let w: Vec<u32> = assemble(&lines).into_iter().map(Option::unwrap).collect();
    let split = |w: u32| [(w >> 16) as u16, w as u16];
    let mut code = vec![0x2001, 0x2801, 0xbf06]; // movs r0, #1; cmp r0, #1; itte eq
    code.extend(split(w[0])); // vaddeq.f64 d0, d1, d2   (vfp64)
    code.extend(split(w[1])); // vmoveq r0, r1, d0        (rsemu)
    code.extend(split(w[2])); // vsubne.f64 d3, d1, d2   (vfp64, skipped)
    code.push(0xbf18); // it ne
    code.extend(split(w[3])); // vmovne.f64 d4, #1.0     (vfp64, skipped)
    code.push(0xe7fe); // b .
    let ram = ram_with_vectors(ENTRY);
    for (i, h) in code.iter().enumerate() {
        ram.write_at(u64::from(ENTRY) + 2 * i as u64, &h.to_le_bytes())
            .unwrap();
    }
    let cpu = core(&space(&ram));
    let d = |n: u8, v: f64| {
        cpu.set_s(2 * n, v.to_bits() as u32);
        cpu.set_s(2 * n + 1, (v.to_bits() >> 32) as u32);
    };
    d(1, 1.5);
    d(2, 0.25);
    d(3, -9.0);
    d(4, -9.0);
    let stop = ENTRY + 2 * (code.len() as u32 - 1);
    let steps = run_until(&cpu, &ram, stop, 100);
    let sum = 1.75f64.to_bits();
    assert_eq!((cpu.s(0), cpu.s(1)), (sum as u32, (sum >> 32) as u32), "d0");
    assert_eq!(
        (cpu.reg(0), cpu.reg(1)),
        (sum as u32, (sum >> 32) as u32),
        "r0, r1"
    );
    assert_eq!(cpu.s(7), ((-9.0f64).to_bits() >> 32) as u32, "d3 untouched");
    assert_eq!(cpu.s(9), ((-9.0f64).to_bits() >> 32) as u32, "d4 untouched");
    assert_eq!(
        cpu.xpsr() & ((0x3f << 10) | (3 << 25)),
        0,
        "IT block finished"
    );
    assert_eq!((steps.ours, steps.skipped, steps.rsemu), (3, 2, 5));
}
