/*
 * The defmt string table of f103-defmt.elf, written the way defmt 1.x's
 * macros (defmt-macros, `construct::interned_string`) write it from Rust:
 * one byte per log statement in a `.defmt.*` input section, named by a
 * symbol whose name is the JSON of defmt's `Symbol` (package, tag, data,
 * disambiguator, crate_name).  The linker script (f103_defmt.ld) gathers
 * them into the `.defmt` INFO section at address 1, so each symbol's
 * address is the statement's index on the wire.  `_defmt_version_ = 4`
 * and `_defmt_encoding_ = rzcobs` are the symbols defmt-decoder looks for
 * to pick the wire format version and the frame encoding.
 *
 * The C side refers to each entry by its plain alias `_defmt_<name>`
 * (defmt-decoder skips names starting with `_defmt`).
 */
#define ENTRY(name, json)                       \
    .section .defmt.name, "", %progbits;        \
    .global _defmt_##name;                      \
_defmt_##name: .byte 0;                         \
    .global json;                               \
    .set json, _defmt_##name

    ENTRY(timestamp, "{\"package\":\"f103-defmt\",\"tag\":\"defmt_timestamp\",\"data\":\"{=u32:ms}\",\"disambiguator\":\"1\",\"crate_name\":\"f103_defmt\"}")
    ENTRY(boot, "{\"package\":\"f103-defmt\",\"tag\":\"defmt_info\",\"data\":\"boot, SystemCoreClock {=u32} Hz\",\"disambiguator\":\"2\",\"crate_name\":\"f103_defmt\"}")
    ENTRY(tick, "{\"package\":\"f103-defmt\",\"tag\":\"defmt_info\",\"data\":\"tick {=u32}\",\"disambiguator\":\"3\",\"crate_name\":\"f103_defmt\"}")
    ENTRY(fifth, "{\"package\":\"f103-defmt\",\"tag\":\"defmt_warn\",\"data\":\"tick {=u32} is a multiple of {=u8}\",\"disambiguator\":\"4\",\"crate_name\":\"f103_defmt\"}")
    ENTRY(temp, "{\"package\":\"f103-defmt\",\"tag\":\"defmt_debug\",\"data\":\"temperature {=i16} dC\",\"disambiguator\":\"5\",\"crate_name\":\"f103_defmt\"}")

    .global "_defmt_version_ = 4"
    .set "_defmt_version_ = 4", 1
    .global "_defmt_encoding_ = rzcobs"
    .set "_defmt_encoding_ = rzcobs", 1
