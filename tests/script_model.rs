//! Library-level tests of the Rhai object model: what target, board and interface scripts
//! declare, overrides, script-registered commands, event handlers, error positions and limits.
//! None of them needs a connected target.

use std::path::{Path, PathBuf};

use stdbg::command::{Collect, Ctx, Origin};
use stdbg::host::worker::execute;
use stdbg::host::{Host, HostConfig};

fn host() -> Host {
    Host::new(HostConfig::default())
}

fn host_with_dir(dir: &Path) -> Host {
    Host::new(HostConfig {
        search_dirs: vec![dir.to_path_buf()],
        ..HostConfig::default()
    })
}

/// Runs `line`; returns its output lines or panics with the error.
fn ok(host: &Host, line: &str) -> Vec<String> {
    let mut out = Collect::default();
    let (r, _) = execute(host, line, Origin::Cli, &mut out);
    if let Err(e) = r {
        panic!("`{line}` failed: {e}\noutput: {:?}", out.0);
    }
    out.0
}

/// Runs `line`, which must fail; returns the error message.
fn fails(host: &Host, line: &str) -> String {
    let mut out = Collect::default();
    let (r, _) = execute(host, line, Origin::Cli, &mut out);
    match r {
        Ok(()) => panic!("`{line}` should have failed; output: {:?}", out.0),
        Err(e) => e,
    }
}

/// Writes `text` to `dir/name` and returns the path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn stm32f1x_target_script_declares_what_openocd_declares() {
    let h = host();
    ok(&h, "script targets/stm32f1x.rhai");
    assert_eq!(
        ok(&h, "targets"),
        [
            "    TargetName         Type       Endian TapName            State       ",
            "--  ------------------ ---------- ------ ------------------ ------------",
            " 0* stm32f1x.cpu       cortex_m   little stm32f1x.cpu       unknown",
        ]
    );
    {
        let t = h.targets();
        let cpu = t.by_name("stm32f1x.cpu").expect("target stm32f1x.cpu");
        assert_eq!(cpu.chip, "STM32F103C8");
        assert_eq!(cpu.dap, "stm32f1x.dap");
        assert_eq!(cpu.ap, 0);
        assert_eq!(
            (cpu.work_area_phys, cpu.work_area_size),
            (0x2000_0000, 0x1000)
        );
        assert_eq!(cpu.expected_dpidr, 0x1ba0_1477);
        assert_eq!(cpu.reset_type, "sysresetreq");
        let events: Vec<&str> = cpu.events.iter().map(|(e, _)| e.as_str()).collect();
        assert_eq!(events, ["examine-end"]);
        assert_eq!(t.banks.len(), 1);
        let b = &t.banks[0];
        assert_eq!(
            (
                b.name.as_str(),
                b.driver.as_str(),
                b.base,
                b.size,
                b.target.as_str()
            ),
            ("stm32f1x.flash", "stm32f1x", 0x0800_0000, 0, "stm32f1x.cpu")
        );
    }
    assert_eq!(ok(&h, "adapter speed"), ["adapter speed: 1000 kHz"]);
    assert_eq!(h.config().reset_config.gating, "srst_nogate");
    // The same facts through the script API (cget with OpenOCD's option names).
    assert_eq!(
        ok(
            &h,
            r#"eval {let t = target("stm32f1x.cpu"); [t.cget("-work-area-phys"), t.cget("work_area_size"), t.core, t.ap, t.dap, t.state]}"#
        ),
        [r#"[536870912, 4096, 0, 0, "stm32f1x.dap", "unknown"]"#]
    );
    assert_eq!(
        ok(&h, "eval current_target().eventlist()"),
        [r#"["examine-end: closure at targets/stm32f1x.rhai:48:9"]"#],
        "cargo runs tests in the package root, so the file on disk is found before the built-in copy"
    );
}

#[test]
fn overrides_chipname_workareasize_flash_size_cputapid() {
    let h = host();
    ok(
        &h,
        "set CHIPNAME f1b; set WORKAREASIZE 0x2000; set FLASH_SIZE 0x20000; set CPUTAPID 0",
    );
    ok(&h, "script targets/stm32f1x.rhai");
    let t = h.targets();
    let cpu = t.by_name("f1b.cpu").expect("target named from CHIPNAME");
    assert_eq!(cpu.dap, "f1b.dap");
    assert_eq!(cpu.work_area_size, 0x2000);
    assert_eq!(cpu.expected_dpidr, 0, "CPUTAPID 0 = accept any DPIDR");
    assert_eq!(
        cpu.chip, "STM32F103CB",
        "a 128 KiB bank picks the CB memory map"
    );
    assert_eq!(
        (t.banks[0].name.as_str(), t.banks[0].size),
        ("f1b.flash", 0x20000)
    );
}

#[test]
fn bluepill_board_forces_a_128k_bank_and_sim_board_selects_the_virtual_adapter() {
    let h = host();
    ok(&h, "script board/bluepill.rhai");
    assert_eq!(h.targets().banks[0].size, 0x20000);
    let h = host();
    ok(&h, "script board/sim-bluepill.rhai");
    assert_eq!(ok(&h, "adapter name"), ["adapter name: sim"]);
    assert_eq!(ok(&h, "transport select"), ["swd"]);
    assert_eq!(
        h.targets().banks[0].size,
        0,
        "F_SIZE decides on the virtual chip"
    );
    for (script, driver) in [
        ("interface/stlink.rhai", "stlink"),
        ("interface/cmsis-dap.rhai", "cmsis-dap"),
        ("interface/jlink.rhai", "jlink"),
    ] {
        let h = host();
        ok(&h, &format!("script {script}"));
        assert_eq!(ok(&h, "adapter name"), [format!("adapter name: {driver}")]);
    }
}

#[test]
fn adapter_and_transport_objects_go_through_the_commands() {
    let h = host();
    assert_eq!(
        ok(&h, "eval adapter.speed(480)"),
        ["480"],
        "speed(kHz) returns the speed in use"
    );
    assert_eq!(ok(&h, "adapter speed"), ["adapter speed: 480 kHz"]);
    ok(
        &h,
        r#"eval {adapter.driver = "stlink"; adapter.serial = "0669FF"; transport.select("swd")}"#,
    );
    assert_eq!(
        ok(
            &h,
            "eval [adapter.driver, adapter.serial, transport.selected]"
        ),
        [r#"["stlink", "0669FF", "swd"]"#]
    );
    ok(
        &h,
        r#"eval {adapter.reset_config("srst_only srst_nogate")}"#,
    );
    assert_eq!(
        ok(&h, "eval adapter.reset_config"),
        ["srst_only separate srst_nogate connect_deassert_srst"]
    );
    let e = fails(&h, r#"eval {adapter.driver = "usbblaster"}"#);
    assert!(
        e.starts_with("<eval>:1:9: The specified debug interface was not found (usbblaster)"),
        "{e}"
    );
    // The reset line needs a connection, exactly like `adapter assert srst`.
    let e = fails(&h, "eval adapter.srst_assert()");
    assert!(
        e.contains("'adapter assert' needs a connected target: run 'init' first"),
        "{e}"
    );
}

#[test]
fn command_functions_and_cmd_return_the_output() {
    let h = host();
    assert_eq!(
        ok(&h, r#"eval {cmd("adapter speed 1200")}"#),
        ["adapter speed: 1200 kHz"]
    );
    // Integers become 0x… words, strings stay one word even with blanks.
    assert_eq!(ok(&h, r#"eval {echo("a b", 16)}"#), ["a b 0x10"]);
    assert_eq!(
        ok(&h, "eval {let s = version(); s.starts_with(\"stdbg \")}"),
        ["true"]
    );
    // Memory methods behave like the commands they run.
    ok(&h, "script targets/stm32f1x.rhai");
    let e = fails(&h, "eval current_target().read_u32(0x20000000)");
    assert!(
        e.starts_with("<eval>:1:18: 'read_memory' needs a connected target: run 'init' first"),
        "{e}"
    );
    let e = fails(
        &h,
        "eval current_target().write_memory(0x20000000, 12, [1])",
    );
    assert!(e.contains("width 12 is not 8, 16, 32 or 64"), "{e}");
    let e = fails(&h, "eval current_target().write_u8(0x20000000, 0x100)");
    assert!(e.contains("value 0x100 does not fit in 8 bits"), "{e}");
}

#[test]
fn registered_command_runs_from_the_dispatcher_appears_in_help_and_is_a_function() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "cmds.rhai",
        r#"register_command("greet", "Greet someone.", "name [more]", |args| {
    if args.len() == 0 { throw "greet: give a name"; }
    "hello " + args[0] + " (" + args.len() + " args)"
});
register_command("tick", "Print tick.", "", || print("tick"));
"#,
    );
    let h = host_with_dir(dir.path());
    ok(&h, "script cmds.rhai");
    assert_eq!(ok(&h, "greet world x"), ["hello world (2 args)"]);
    assert_eq!(ok(&h, "tick"), ["tick"]);
    let help = ok(&h, "help greet");
    assert_eq!(help.len(), 1);
    assert!(
        help[0].starts_with("greet name [more]") && help[0].ends_with("Greet someone."),
        "{help:?}"
    );
    // Later scripts call it as a Rhai function.
    assert_eq!(ok(&h, r#"eval {greet("rhai")}"#), ["hello rhai (1 args)"]);
    // A handler error names the position and where the command was registered.
    let e = fails(&h, "greet");
    let file = dir.path().join("cmds.rhai").display().to_string();
    assert_eq!(
        e,
        format!(
            "{file}:2:26: greet: give a name\n  in closure\n  in command 'greet' registered at {file}:1:1"
        )
    );
    // Built-in commands stay.
    let e = fails(&h, r#"eval {register_command("halt", "x", "", || 1)}"#);
    assert!(
        e.contains("'halt' is a built-in command and cannot be replaced"),
        "{e}"
    );
}

#[test]
fn event_handler_forms_and_their_errors() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ev.rhai",
        r#"let t = target_create("ev.cpu", "cortex_m", #{ chip: "STM32F103C8" });
let n = 7;
t.on("reset-init", || print("this " + this.name));
t.on("reset-init", |tt| print("param " + tt.name));
t.on("reset-init", |tt, ev| print("both " + tt.name + " " + ev));
t.on("reset-init", || print("captured n=" + n));
on(t, "reset-init", || print("free form " + t.name));
t.on("reset-init", "echo {command body}");
t.on("reset-end", |tt| tt.no_such_method());
"#,
    );
    let h = host_with_dir(dir.path());
    ok(&h, "script ev.rhai");
    let mut out = Collect::default();
    // From a console: on the command line (Origin::Cli) `echo` would write to stderr.
    let mut ctx = Ctx::new(&h, Origin::Telnet(1), &mut out);
    h.fire_event(&mut ctx, "ev.cpu", "reset-init").unwrap();
    assert_eq!(
        out.0,
        [
            "this ev.cpu",
            "param ev.cpu",
            "both ev.cpu reset-init",
            "captured n=7",
            "free form ev.cpu",
            "command body"
        ]
    );

    let mut out = Collect::default();
    let mut ctx = Ctx::new(&h, Origin::Cli, &mut out);
    let e = h
        .fire_event(&mut ctx, "ev.cpu", "reset-end")
        .unwrap_err()
        .to_string();
    let file = dir.path().join("ev.rhai").display().to_string();
    assert_eq!(
        e,
        format!(
            "[ev.cpu] error in the 'reset-end' event handler: {file}:9:27: Function not found: no_such_method (Target)\n  in closure\n  in the 'reset-end' handler registered at {file}:9:3"
        )
    );
    // The form that captures the target in a method call is refused with advice.
    let e = fails(
        &h,
        r#"eval {let t = target("ev.cpu"); t.on("halted", || t.halt())}"#,
    );
    assert!(e.contains("data race") && e.contains("|t| t.halt()"), "{e}");
    let e = fails(&h, r#"eval {target("ev.cpu").on("reset-int", || 1)}"#);
    assert!(
        e.contains("unknown event 'reset-int'; did you mean \"reset-init\"?"),
        "{e}"
    );
}

#[test]
fn errors_report_file_line_column_and_the_source_chain() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "syntax.rhai", "let x = 1;\nlet y = x +;\n");
    write(
        d,
        "inner.rhai",
        "fn setup(v) {\n    v.explode()\n}\nsetup(1);\n",
    );
    write(d, "outer.rhai", "let a = 1;\nsource(\"inner.rhai\");\n");
    write(d, "missing.rhai", "source(\"nowhere/x.rhai\");\n");
    write(d, "badcmd.rhai", "\n  mdw(1, 2, 3, 4);\n");
    let h = host_with_dir(d);
    let p = |n: &str| d.join(n).display().to_string();
    assert_eq!(
        fails(&h, "script syntax.rhai"),
        format!("{}:2:12: Syntax error: Unexpected ';'", p("syntax.rhai"))
    );
    assert_eq!(
        fails(&h, "script outer.rhai"),
        format!(
            "{inner}:2:7: Function not found: explode (integer)\n  in call to function 'setup' at {inner}:4:1\n  in a script sourced at {outer}:2:8",
            inner = p("inner.rhai"),
            outer = p("outer.rhai")
        )
    );
    let e = fails(&h, "script missing.rhai");
    assert!(
        e.starts_with(&format!(
            "{}:1:8: source: can't find nowhere/x.rhai: it is not in the -s directories",
            p("missing.rhai")
        )),
        "{e}"
    );
    // A failing command inside a script: the command's own message at the script position.
    let e = fails(&h, "script badcmd.rhai");
    assert!(
        e.starts_with(&format!(
            "{}:2:3: 'mdw' needs a connected target",
            p("badcmd.rhai")
        )),
        "{e}"
    );
    // Absolute paths work too.
    let e = fails(&h, &format!("script {}", p("syntax.rhai")));
    assert!(e.starts_with(&format!("{}:2:12:", p("syntax.rhai"))), "{e}");
    let e = fails(&h, "script nope.rhai");
    assert!(e.starts_with("can't find nope.rhai: it is not in the -s directories, the current directory or the built-in scripts (interface/sim.rhai"), "{e}");
}

#[test]
fn runaway_script_is_stopped_and_the_engine_keeps_working() {
    let h = host();
    ok(&h, "set counter 5");
    ok(&h, "eval {counter += 1}");
    let e = fails(&h, "eval {loop { }}");
    assert!(e.starts_with("<eval>:1:"), "{e}");
    assert!(
        e.contains("script stopped after 10000000 operations: it looks like an endless loop"),
        "{e}"
    );
    assert_eq!(ok(&h, "eval 1 + 1"), ["2"]);
    // The global scope survived, with what the loop did to it.
    assert_eq!(ok(&h, "eval counter"), ["6"]);
}

#[test]
fn print_reaches_the_caller_and_set_is_refused_inside_scripts() {
    let h = host();
    assert_eq!(
        ok(&h, r#"eval {print("one"); print("two"); 3}"#),
        ["one", "two", "3"]
    );
    // print() output is kept when the script then fails.
    let mut out = Collect::default();
    let (r, _) = execute(
        &h,
        r#"eval {print("before"); throw "stop here"}"#,
        Origin::Cli,
        &mut out,
    );
    assert_eq!(out.0, ["before"]);
    assert_eq!(r.unwrap_err(), "<eval>:1:18: stop here");
    let e = fails(&h, r#"eval {cmd("set X 1")}"#);
    assert!(e.contains("'set X' cannot change script variables while a script runs; inside a script write `let X = value;`"), "{e}");
    ok(&h, "set NAME stm32");
    assert_eq!(ok(&h, r#"eval {NAME + "!"}"#), ["stm32!"]);
}

#[test]
fn functions_defined_by_scripts_stay_callable() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "lib.rhai", "fn double(x) { x * 2 }\n");
    write(dir.path(), "board.rhai", "source(\"lib.rhai\");\n");
    let h = host_with_dir(dir.path());
    ok(&h, "script board.rhai");
    assert_eq!(ok(&h, "eval double(21)"), ["42"]);
}

#[test]
fn target_configuration_errors_are_explained() {
    let h = host();
    let e = fails(&h, r#"eval {target_create("a.cpu", "cortex_m", #{})}"#);
    assert!(
        e.contains(
            "option 'chip' (the probe-rs chip name, e.g. \"STM32F103C8\") is required for a.cpu"
        ),
        "{e}"
    );
    ok(
        &h,
        r#"eval {target_create("a.cpu", "cortex_m", #{chip: "STM32F103C8"})}"#,
    );
    let e = fails(
        &h,
        r#"eval {target_create("a.cpu", "cortex_m", #{chip: "STM32F103C8"})}"#,
    );
    assert!(e.contains("target 'a.cpu' already exists"), "{e}");
    let e = fails(
        &h,
        r#"eval {target("a.cpu").configure(#{"-work-area-sise": 4})}"#,
    );
    assert!(
        e.contains("unknown target option 'work_area_sise'; known options: chip,"),
        "{e}"
    );
    let e = fails(
        &h,
        r#"eval {target("a.cpu").configure("work_area_backup", 1)}"#,
    );
    assert!(e.contains("work_area_backup 1 is not supported"), "{e}");
    // A rejected configure changes nothing.
    let e = fails(
        &h,
        r#"eval {target("a.cpu").configure(#{work_area_size: 0x800, endian: "big"})}"#,
    );
    assert!(e.contains("endian 'big' is not supported"), "{e}");
    assert_eq!(h.targets().by_name("a.cpu").unwrap().work_area_size, 0);
    let e = fails(&h, r#"eval {target("b.cpu")}"#);
    assert!(e.contains("no target named 'b.cpu'; targets: a.cpu"), "{e}");
    let e = fails(
        &h,
        r#"eval {flash_bank("x.flash", "stm32f1x", 0x08000000, 0, "b.cpu")}"#,
    );
    assert!(e.contains("target 'b.cpu' does not exist"), "{e}");
    assert_eq!(
        ok(
            &h,
            r#"eval {let b = flash_bank("a.flash", "stm32f1x", 0x08000000, 0x10000, target("a.cpu")); [b.name, b.base, b.size, b.target]}"#
        ),
        [r#"["a.flash", 134217728, 65536, "a.cpu"]"#]
    );
}

#[test]
fn search_dirs_come_before_the_built_in_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let over = write(
        dir.path(),
        "targets/stm32f1x.rhai",
        "print(\"override\");\n",
    );
    let h = host_with_dir(dir.path());
    assert_eq!(
        ok(&h, "eval find(\"targets/stm32f1x.rhai\")"),
        [over.display().to_string()]
    );
    assert_eq!(ok(&h, "script targets/stm32f1x.rhai"), ["override"]);
    assert_eq!(
        ok(&h, "eval find(\"interface/jlink.rhai\")"),
        ["<builtin>/interface/jlink.rhai"]
    );
    let e = fails(&h, "eval find(\"interface/nope.rhai\")");
    assert!(e.contains("can't find interface/nope.rhai"), "{e}");
}
