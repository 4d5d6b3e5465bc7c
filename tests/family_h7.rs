//! The `stm32h7x` family on the virtual STM32H743ZI through the built binary (first steps of the
//! H7 issue): OpenOCD 0.12's probe lines and bank geometry, an image written and verified through
//! the bank of `targets/stm32h7x.rhai`, `flash info`, and `stm32h7x lock` / `unlock` with the
//! mass erase observed.

mod common;

use common::{assert_has, stdbg, tempdir};
use stdbg::sim::{ChipModel, Sim, SimConfig};

#[test]
fn h743_bank1_probe_write_verify_and_rdp_lock_unlock_with_the_mass_erase() {
    let dir = tempdir();
    let storage = dir.path().join("chip.bin");
    let raw = dir.path().join("h7.bin");
    let data: Vec<u8> = (0..40_000u32).map(|i| (i * 31 + 7) as u8).collect();
    std::fs::write(&raw, &data).unwrap();
    let st = format!("sim storage {}", storage.display());
    let cmds = format!(
        "init; reset halt; flash probe 0; flash banks; flash write_image erase {0} 0x08000000 bin; \
         verify_image {0} 0x08000000 bin; flash info 0; stm32h7x option_read 0 0x1c; shutdown",
        raw.display()
    );
    let r = stdbg(
        dir.path(),
        &[
            "-c",
            &st,
            "-f",
            "board/sim-st_nucleo_h743zi.rhai",
            "-c",
            common::QUIET,
            "-c",
            &cmds,
        ],
    );
    r.expect_code(0);
    assert_has(
        &r.stderr,
        "Info : Device: STM32H74x/75x\nInfo : flash size probed value 2048k\nInfo : STM32H7 flash has dual banks\nInfo : Bank (0) size is 1024 kb, base address is 0x08000000\n",
    );
    assert_has(&r.stdout, "flash 'stm32h7x' found at 0x08000000\n");
    assert_has(
        &r.stdout,
        "#0 : stm32h7x.bank1.cpu0 (stm32h7x) at 0x08000000, size 0x00100000, buswidth 0, chipwidth 0\n",
    );
    assert_has(&r.stdout, "wrote 40000 bytes from file ");
    assert_has(&r.stdout, "verified 40000 bytes in ");
    assert_has(
        &r.stdout,
        "\t#  0: 0x00000000 (0x20000 128kB) not protected\n",
    );
    assert_has(
        &r.stdout,
        "\t#  7: 0x000e0000 (0x20000 128kB) not protected\nSTM32H74x/75x - Rev: V\n",
    );
    assert_has(&r.stdout, "Option Register: <0x5200201c> = 0x6aad0\n");
    let back = Sim::new(SimConfig {
        chip: ChipModel::Stm32h743zi,
        storage: Some(storage.clone()),
    })
    .unwrap()
    .read_nonvolatile(0x0800_0000, data.len());
    assert_eq!(back, data);

    // RDP level 1 and back: OPTSR_CUR.RDP 0xAA -> 0x00 -> 0xAA; the regression mass-erases.
    let r = stdbg(
        dir.path(),
        &[
            "-c",
            &st,
            "-f",
            "board/sim-st_nucleo_h743zi.rhai",
            "-c",
            common::QUIET,
            "-c",
            "init; reset halt; stm32h7x lock 0; stm32h7x option_read 0 0x1c; stm32h7x unlock 0; \
             stm32h7x option_read 0 0x1c; mdw 0x08000000 2; shutdown",
        ],
    );
    r.expect_code(0);
    assert_has(&r.stderr, "Warn : locking the entire flash device\n");
    assert_has(
        &r.stdout,
        "stm32h7x locked\nOption Register: <0x5200201c> = 0x600d0\n",
    );
    assert_has(
        &r.stderr,
        "Warn : unlocking the entire flash device: the chip mass-erases both banks",
    );
    assert_has(
        &r.stdout,
        "stm32h7x unlocked\nOption Register: <0x5200201c> = 0x6aad0\n0x08000000: ffffffff ffffffff \n",
    );
    let back = Sim::new(SimConfig {
        chip: ChipModel::Stm32h743zi,
        storage: Some(storage),
    })
    .unwrap()
    .read_nonvolatile(0x0800_0000, data.len());
    assert!(
        back.iter().all(|&b| b == 0xFF),
        "the RDP regression mass-erased bank 1"
    );
}
