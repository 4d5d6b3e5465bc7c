//! An IDE launch replayed through GDB/MI (`gdb-multiarch --interpreter=mi2`), the way Eclipse
//! CDT, STM32CubeIDE and cortex-debug drive an external GDB server: no command may answer
//! `^error`, and the stop records must be the expected ones.

#[path = "gdb/harness.rs"]
mod harness;

use harness::{Mi, Server};

#[test]
fn gdb_mi_ide_launch_sequence_runs_without_errors() {
    let s = Server::start();
    let mut mi = Mi::start(s.dir.path());
    let elf = harness::firmware("f103-blinky.elf");
    mi.cmd("-gdb-set pagination off");
    mi.cmd(&format!("-file-exec-and-symbols {}", elf.display()));
    let r = mi.cmd(&format!(
        "-target-select extended-remote 127.0.0.1:{}",
        s.gdb_port
    ));
    assert!(
        r.iter().any(|l| l.starts_with("^connected")),
        "{}",
        mi.text()
    );

    let r = mi.cmd("-interpreter-exec console \"monitor reset halt\"");
    assert!(
        r.iter().any(|l| l.contains("halted due to debug-request")),
        "{}",
        mi.text()
    );

    let r = mi.cmd("-target-download");
    assert!(
        r.last()
            .unwrap()
            .starts_with("^done,address=\"0x080000f0\",load-size=\"440\""),
        "{}",
        mi.text()
    );

    let r = mi.cmd("-break-insert main");
    assert!(
        r.last()
            .unwrap()
            .contains("addr=\"0x08000174\",func=\"main\""),
        "{}",
        mi.text()
    );

    let r = mi.cmd("-exec-continue");
    assert!(r.last().unwrap().starts_with("^running"), "{}", mi.text());
    let stop = mi.wait_stopped();
    assert!(
        stop.contains("reason=\"breakpoint-hit\"") && stop.contains("func=\"main\""),
        "{stop}"
    );

    let r = mi.cmd("-data-list-register-values x");
    let regs = r.last().unwrap();
    assert!(
        regs.contains("{number=\"15\",value=\"0x8000174\"}"),
        "{regs}"
    );
    // r0-r12, sp, lr, pc, xpsr and the six m-system registers (GDB numbers them itself).
    assert_eq!(regs.matches("{number=").count(), 23, "{regs}");

    let r = mi.cmd("-data-read-memory-bytes 0x08000000 8");
    assert!(
        r.last().unwrap().contains("contents=\"00500020f1000008\""),
        "{}",
        mi.text()
    );

    let r = mi.cmd("-exec-next");
    assert!(r.last().unwrap().starts_with("^running"), "{}", mi.text());
    let stop = mi.wait_stopped();
    assert!(
        stop.contains("reason=\"end-stepping-range\"") && stop.contains("line=\"21\""),
        "{stop}"
    );

    let r = mi.cmd("-target-detach");
    assert!(r.last().unwrap().starts_with("^done"), "{}", mi.text());
    mi.cmd("-gdb-exit");

    let text = mi.text();
    assert!(!text.contains("^error"), "an MI command failed:\n{text}");
}
