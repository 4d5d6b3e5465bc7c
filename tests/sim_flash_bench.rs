//! Flashing throughput of the 60 KiB image: DAP transactions against the floor
//! of one DRW access per 4 bytes written plus one per 4 bytes verified.

use std::time::Instant;

use probe_rs::MemoryInterface;

mod sim_support;
use sim_support::{attach, download, firmware, fresh};

#[test]
fn download_big_elf_cost() {
    let elf = firmware("f103-big.elf");
    let sim = fresh();
    let mut session = attach(&sim).unwrap();
    sim.reset_stats();
    let t = Instant::now();
    download(&mut session, &elf).unwrap();
    let wall = t.elapsed();
    let stats = sim.stats();
    let loaded = 60_804u64; // bytes in the image (tests/firmware/README.md)
    let kib = loaded as f64 / 1024.0;
    let floor = 2 * loaded / 4;
    let per_kib = stats.total() as f64 / kib;
    println!(
        "60 KiB download+verify: {} transactions ({per_kib:.1}/KiB, floor 512/KiB, {:.3}x), {:?} wall; {stats:?}",
        stats.total(),
        stats.total() as f64 / floor as f64,
        wall
    );
    // The data phase itself is at the floor (one DRW access per word written and
    // per word verified, plus one TAR write and one RDBUFF per 1 KiB block).
    assert!(
        stats.ap_reads >= loaded / 4 && stats.ap_writes >= loaded / 4,
        "{stats:?}"
    );
    // What comes on top is probe-rs 0.32's flash-algorithm call protocol: about
    // 125 routine calls (60 page erases, 60 page programs, init/uninit), each
    // writing r0–r3/PC/LR through DCRDR/DCRSR with an S_REGRDY poll, single-
    // stepping with the FPB switched off and on, polling DHCSR/DFSR and reading
    // r0 back; every one of those word accesses costs TAR write + DRW + RDBUFF
    // on the wire. That is ~1.53x the floor; this bound guards against regressions.
    assert!(
        stats.total() as f64 <= 1.6 * floor as f64,
        "{} transactions > 1.6 x floor {floor}",
        stats.total()
    );

    // The image runs: checksum of the table (README: 0x9ed5ba6e).
    let mut core = session.core(0).unwrap();
    core.reset_and_halt(std::time::Duration::from_millis(500))
        .unwrap();
    core.run().unwrap();
    let mut ok = false;
    for _ in 0..20_000 {
        if core.read_word_32(0x2000_0000).unwrap() > 0 {
            ok = true;
            break;
        }
    }
    assert!(ok, "big image did not reach its main loop");
    assert_eq!(core.read_word_32(0x2000_0004).unwrap(), 0x9ed5_ba6e);
}
