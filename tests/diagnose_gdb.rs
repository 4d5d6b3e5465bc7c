//! The GDB side of a failing target: the client stays connected, sees stdbg's diagnosis on
//! its console and the session recovers by itself (real `gdb-multiarch` against the virtual Blue Pill).

#[path = "gdb/harness.rs"]
mod harness;

use harness::{Server, ex, firmware};

#[test]
fn gdb_continue_into_stop_mode_firmware_explains_the_lost_link_and_stays_connected() {
    let s = Server::start();
    let elf = firmware("f103-stop.elf");
    let r = s.gdb(&[
        ex(&format!("load {}", elf.display())),
        ex("monitor reset halt"),
        ex("continue"),
        ex("info registers pc"),
        ex("monitor version"),
    ]);
    // The resume fails at once: the firmware cleared DBGMCU_CR and entered Stop.
    r.expect("stdbg: could not resume the target: [stm32f1x.cpu] lost the debug link")
        .expect("cleared DBG_STOP/DBG_STANDBY itself")
        .expect("connect_assert_srst")
        // The next access attaches again by itself (under reset: the core halts on the
        // reset vector), so the register read answers instead of failing or dropping GDB.
        .expect("pc             0x80000f0           0x80000f0 <Reset_Handler>");
    // Still connected: a monitor command after the failure is answered.
    r.expect("stdbg 0.");
}
