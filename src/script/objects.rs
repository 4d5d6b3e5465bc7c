//! The object model scripts see: `adapter`, `transport`, targets (`target_create`, `target`),
//! flash banks (`flash_bank`), event handlers (`t.on("examine-end", || …)`) and script-defined
//! commands (`register_command`).
//!
//! Handles are cheap references by name: all copies of a target handle refer to the same target,
//! and everything a handle does that touches the chip goes through the command dispatcher, so a
//! script method behaves exactly like the command a user would type (same checks, same errors).

use rhai::{AST, Array, Dynamic, Engine, EvalAltResult, FnPtr, Map, NativeCallContext};

use super::{Callback, at, host_of, run_line};
use crate::command::{self, Mode};
use crate::host::WeakHost;
use crate::host::target::{EVENT_NAMES, EventHandler, FlashBank, TargetDef, TargetKind};

type RResult<T> = Result<T, Box<EvalAltResult>>;

fn err<T>(msg: impl Into<String>) -> RResult<T> {
    Err(msg.into().into())
}

/// A handle to a target declared by a script (`let t = target_create(…)`, `target("name")`).
/// All copies refer to the same target. Methods that access the chip make this target current
/// for the duration of the command and then restore the previous current target.
#[derive(Clone)]
pub struct TargetHandle {
    name: String,
    host: WeakHost,
}

/// A handle to a flash bank declared with `flash_bank(…)`.
#[derive(Clone)]
pub struct FlashBankHandle {
    name: String,
    host: WeakHost,
}

/// The `adapter` object (`adapter.driver = "stlink"`, `adapter.speed(4000)`, `adapter.serial`,
/// `adapter.srst_assert()`, `adapter.reset_config("srst_only srst_nogate")`).
#[derive(Clone)]
pub struct AdapterHandle {
    host: WeakHost,
}

/// The `transport` object (`transport.select("swd")`, `transport.selected`).
#[derive(Clone)]
pub struct TransportHandle {
    host: WeakHost,
}

impl AdapterHandle {
    /// The handle scripts see as `adapter`.
    pub fn new(host: &WeakHost) -> Self {
        AdapterHandle { host: host.clone() }
    }
}

impl TransportHandle {
    /// The handle scripts see as `transport`.
    pub fn new(host: &WeakHost) -> Self {
        TransportHandle { host: host.clone() }
    }
}

/// Builds a [`Callback`] for a closure passed to a native function: the AST holding the
/// closure's definition is rebuilt from the function libraries of the running script, and the
/// origin is the script position of the call (`file:line:column`).
fn callback(ctx: &NativeCallContext, f: FnPtr) -> Callback {
    let mut ast = AST::empty();
    for m in ctx.iter_namespaces() {
        ast = ast.merge(&AST::new_from_module(m.clone()));
    }
    let file = ctx.call_source().unwrap_or("<script>");
    ast.set_source(file);
    let origin = at(file, ctx.call_position());
    Callback {
        fnptr: f,
        ast: std::sync::Arc::new(ast),
        origin,
    }
}

/// Option names as scripts may write them: OpenOCD's `-work-area-phys` and `work_area_phys` are
/// the same key.
fn norm_key(k: &str) -> String {
    k.trim_start_matches('-').replace('-', "_")
}

fn int_value(key: &str, v: &Dynamic) -> RResult<i64> {
    v.as_int()
        .map_err(|t| format!("target option '{key}' must be an integer, not {t}").into())
}

fn u32_value(key: &str, v: &Dynamic) -> RResult<u32> {
    let i = int_value(key, v)?;
    u32::try_from(i).map_err(|_| {
        format!("target option '{key}' = {i} does not fit in 32 bits (0 to 0xFFFFFFFF)").into()
    })
}

fn str_value(key: &str, v: &Dynamic) -> RResult<String> {
    v.clone()
        .into_immutable_string()
        .map(|s| s.to_string())
        .map_err(|t| format!("target option '{key}' must be a string, not {t}").into())
}

/// Every option `configure`/`cget` know, with OpenOCD's names (dashes become underscores).
pub const TARGET_OPTIONS: &[&str] = &[
    "chip",
    "coreid",
    "ap_num",
    "dap",
    "work_area_phys",
    "work_area_size",
    "work_area_backup",
    "cputapid",
    "dev_ids",
    "endian",
    "reset_type",
    "type",
    "gdb_max_connections",
];

fn apply_option(t: &mut TargetDef, key: &str, v: &Dynamic) -> RResult<()> {
    match key {
        "chip" => t.chip = str_value(key, v)?,
        "coreid" => {
            let i = int_value(key, v)?;
            t.core_index = usize::try_from(i)
                .map_err(|_| -> Box<EvalAltResult> { format!("coreid {i} is negative").into() })?;
        }
        "ap" | "ap_num" => {
            let i = int_value(key, v)?;
            t.ap = u8::try_from(i).map_err(|_| -> Box<EvalAltResult> {
                format!("ap_num {i} is not an access port number (0 to 255)").into()
            })?;
        }
        "dap" => t.dap = str_value(key, v)?,
        "work_area_phys" => t.work_area_phys = u32_value(key, v)?,
        "work_area_size" => t.work_area_size = u32_value(key, v)?,
        "work_area_backup" => {
            let on = v
                .as_bool()
                .ok()
                .or_else(|| v.as_int().ok().map(|i| i != 0))
                .unwrap_or(true);
            if on {
                return err(
                    "work_area_backup 1 is not supported: stdbg's flash loader does not save the work area; keep it 0 and do not keep data at the work area while flashing",
                );
            }
        }
        "cputapid" | "expected_id" => t.expected_dpidr = u32_value(key, v)?,
        "dev_ids" => {
            let arr = v.clone().into_array().map_err(|ty| -> Box<EvalAltResult> {
                format!("dev_ids must be an array of DEV_ID numbers, not {ty}").into()
            })?;
            t.expected_dev_ids = arr
                .iter()
                .map(|d| u32_value("dev_ids", d))
                .collect::<RResult<_>>()?;
        }
        "endian" => {
            let e = str_value(key, v)?;
            if e != "little" {
                return err(format!(
                    "endian '{e}' is not supported: Cortex-M targets of STM32 are little-endian"
                ));
            }
        }
        "reset_type" => {
            let r = str_value(key, v)?;
            if r != "sysresetreq" {
                return err(format!(
                    "reset_type '{r}' is not supported: stdbg resets Cortex-M cores with AIRCR.SYSRESETREQ (use \"sysresetreq\"; VECTRESET resets only the core, not the peripherals)"
                ));
            }
            t.reset_type = r;
        }
        "type" => {
            let ty = str_value(key, v)?;
            if TargetKind::from_name(&ty) != Some(t.kind) {
                return err(format!(
                    "target type '{ty}' cannot be changed by configure: {} was created as '{}'",
                    t.name,
                    t.kind.as_str()
                ));
            }
        }
        // GDB connections at once (crate::gdb); "-1" arrives as text from `configure` words.
        "gdb_max_connections" => {
            t.gdb_max_connections = v
                .as_int()
                .ok()
                .or_else(|| v.clone().into_string().ok()?.trim().parse().ok())
                .ok_or_else(|| -> Box<EvalAltResult> {
                    format!("gdb_max_connections must be an integer (-1 = no limit), not {v}")
                        .into()
                })?
                .max(-1);
        }
        other => {
            return err(format!(
                "unknown target option '{other}'; known options: {}",
                TARGET_OPTIONS.join(", ")
            ));
        }
    }
    Ok(())
}

fn get_option(t: &TargetDef, key: &str) -> RResult<Dynamic> {
    Ok(match key {
        "name" => t.name.clone().into(),
        "chip" => t.chip.clone().into(),
        "type" => t.kind.as_str().into(),
        "coreid" => (t.core_index as i64).into(),
        "ap" | "ap_num" => (t.ap as i64).into(),
        "dap" => t.dap.clone().into(),
        "work_area_phys" => (t.work_area_phys as i64).into(),
        "work_area_size" => (t.work_area_size as i64).into(),
        "work_area_backup" => Dynamic::from(0_i64),
        "cputapid" | "expected_id" => (t.expected_dpidr as i64).into(),
        "dev_ids" => t
            .expected_dev_ids
            .iter()
            .map(|d| Dynamic::from(*d as i64))
            .collect::<Array>()
            .into(),
        "endian" => "little".into(),
        "reset_type" => t.reset_type.clone().into(),
        "state" => t.state.as_str().into(),
        "gdb_max_connections" => t.gdb_max_connections.into(),
        other => {
            return err(format!(
                "unknown target option '{other}'; known options: name, state, {}",
                TARGET_OPTIONS.join(", ")
            ));
        }
    })
}

/// Parses `read_memory` output (`0x1 0x2 …`) into numbers.
fn parse_values(text: &str) -> RResult<Vec<i64>> {
    text.split_whitespace()
        .map(|w| {
            let h = w.trim_start_matches("0x");
            u64::from_str_radix(h, 16)
                .map(|v| v as i64)
                .map_err(|_| format!("unexpected read_memory output '{w}'").into())
        })
        .collect()
}

fn width_of(bits: i64) -> RResult<u32> {
    match bits {
        8 | 16 | 32 | 64 => Ok(bits as u32),
        _ => err(format!(
            "width {bits} is not 8, 16, 32 or 64 (bits per item)"
        )),
    }
}

fn mask(v: i64, bits: u32) -> u64 {
    if bits == 64 {
        v as u64
    } else {
        (v as u64) & ((1u64 << bits) - 1)
    }
}

/// A value for an item of `bits` bits: 0 to 2^bits − 1, as `mww` takes them (a negative value
/// is refused, not silently written as its two's complement). For 64 bits every integer is
/// taken: Rhai integers are signed 64-bit, so values from 2^63 up can only be written as
/// negative numbers (their two's complement).
fn check_value(v: i64, bits: u32) -> RResult<u64> {
    if bits < 64 && (v < 0 || (v as u64) >> bits != 0) {
        let max = (1u64 << bits) - 1;
        return err(if v < 0 {
            format!(
                "value {v} is negative: a {bits}-bit value is 0 to {max:#x} (write {:#x} for the {bits}-bit two's complement of {v})",
                mask(v, bits)
            )
        } else {
            format!("value {v:#x} does not fit in {bits} bits (0 to {max:#x})")
        });
    }
    Ok(mask(v, bits))
}

fn addr_of(a: i64) -> RResult<u64> {
    if a < 0 {
        return err(format!("address {a} is negative"));
    }
    Ok(a as u64)
}

impl TargetHandle {
    /// A handle for the target named `name` (not checked).
    pub fn new(name: &str, host: &WeakHost) -> Self {
        TargetHandle {
            name: name.to_string(),
            host: host.clone(),
        }
    }

    /// The target's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn with<R>(&self, f: impl FnOnce(&mut TargetDef) -> R) -> RResult<R> {
        let host = host_of(&self.host)?;
        let mut t = host.targets();
        let def = t
            .by_name_mut(&self.name)
            .ok_or_else(|| -> Box<EvalAltResult> {
                format!("target {} no longer exists", self.name).into()
            })?;
        Ok(f(def))
    }

    fn configure(&mut self, opts: &Map) -> RResult<()> {
        // Check everything first so a bad option changes nothing.
        let mut copy = self.with(|t| t.clone())?;
        for (k, v) in opts {
            apply_option(&mut copy, &norm_key(k), v)?;
        }
        self.with(|t| {
            let events = std::mem::take(&mut t.events);
            *t = copy;
            t.events = events;
        })
    }

    fn cget(&mut self, key: &str) -> RResult<Dynamic> {
        let key = norm_key(key);
        let t = self.with(|t| t.clone())?;
        get_option(&t, &key)
    }

    /// Runs `line` through the dispatcher with this target as the current one.
    fn run(&self, line: &str) -> RResult<String> {
        let host = host_of(&self.host)?;
        let prev = {
            let mut t = host.targets();
            let idx = t.list.iter().position(|d| d.name == self.name).ok_or_else(
                || -> Box<EvalAltResult> {
                    format!("target {} no longer exists", self.name).into()
                },
            )?;
            std::mem::replace(&mut t.current, idx)
        };
        let r = run_line(&host, line);
        {
            let mut t = host.targets();
            if prev < t.list.len() {
                t.current = prev;
            }
        }
        r
    }

    fn read(&self, addr: i64, bits: u32, count: i64) -> RResult<Vec<i64>> {
        if count < 0 {
            return err(format!("count {count} is negative"));
        }
        if count == 0 {
            return Ok(Vec::new());
        }
        let out = self.run(&format!("read_memory {:#x} {bits} {count}", addr_of(addr)?))?;
        let v = parse_values(&out)?;
        if v.len() != count as usize {
            return err(format!(
                "read_memory returned {} items instead of {count}",
                v.len()
            ));
        }
        Ok(v)
    }

    fn write(&self, addr: i64, bits: u32, values: &[i64]) -> RResult<()> {
        if values.is_empty() {
            return Ok(());
        }
        let words = values
            .iter()
            .map(|v| check_value(*v, bits).map(|v| format!("{v:#x}")))
            .collect::<RResult<Vec<_>>>()?;
        self.run(&format!(
            "write_memory {:#x} {bits} {{{}}}",
            addr_of(addr)?,
            words.join(" ")
        ))
        .map(|_| ())
    }
}

impl FlashBankHandle {
    /// The bank's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn with<R>(&self, f: impl FnOnce(&FlashBank) -> R) -> RResult<R> {
        let host = host_of(&self.host)?;
        let t = host.targets();
        let b =
            t.banks
                .iter()
                .find(|b| b.name == self.name)
                .ok_or_else(|| -> Box<EvalAltResult> {
                    format!("flash bank {} no longer exists", self.name).into()
                })?;
        Ok(f(b))
    }
}

fn create_target(w: &WeakHost, name: &str, ty: &str, opts: &Map) -> RResult<TargetHandle> {
    let Some(kind) = TargetKind::from_name(ty) else {
        return err(format!(
            "target type '{ty}' is not supported; stdbg drives 'cortex_m' targets (cores) and 'mem_ap' targets (memory through one access port)"
        ));
    };
    if name.trim().is_empty() || name.contains(char::is_whitespace) {
        return err(format!(
            "target name '{name}' must be one word, e.g. \"stm32f1x.cpu\""
        ));
    }
    let host = host_of(w)?;
    let mut def = TargetDef::new(name, "");
    def.kind = kind;
    def.dap = match name.strip_suffix(".cpu") {
        Some(chip) => format!("{chip}.dap"),
        None => format!("{name}.dap"),
    };
    for (k, v) in opts {
        apply_option(&mut def, &norm_key(k), v)?;
    }
    if kind == TargetKind::MemAp {
        if !opts
            .keys()
            .any(|k| matches!(norm_key(k).as_str(), "ap" | "ap_num"))
        {
            return err(format!(
                "target_create: a mem_ap target needs 'ap_num' (the access port number, e.g. 2 for the STM32H7's APB-AP) for {name}"
            ));
        }
        if let Some(k) = opts.keys().map(|k| norm_key(k)).find(|k| {
            matches!(
                k.as_str(),
                "chip" | "coreid" | "work_area_phys" | "work_area_size" | "cputapid" | "dev_ids"
            )
        }) {
            return err(format!(
                "target_create: option '{k}' belongs to a core; the mem_ap target {name} takes only 'dap', 'ap_num' and 'endian'"
            ));
        }
    } else if def.chip.is_empty() {
        return err(format!(
            "target_create: option 'chip' (the probe-rs chip name, e.g. \"STM32F103C8\") is required for {name}"
        ));
    }
    let mut t = host.targets();
    if t.by_name(name).is_some() {
        return err(format!(
            "target '{name}' already exists: a target script can be sourced only once (set CHIPNAME to declare a second chip)"
        ));
    }
    if kind == TargetKind::CortexM && !opts.keys().any(|k| norm_key(k) == "coreid") {
        def.core_index = t.list.iter().filter(|d| d.is_core()).count();
    }
    t.list.push(def);
    t.current = t.list.len() - 1;
    Ok(TargetHandle::new(name, w))
}

/// The text of a Rhai error raised by the functions here (no "Runtime error" prefix).
fn plain_error(e: &EvalAltResult) -> String {
    match e {
        EvalAltResult::ErrorRuntime(v, _) => v.to_string(),
        other => other.to_string(),
    }
}

/// OpenOCD's `<target> configure -option value …` from a console or a Tcl file: the same
/// options as the Rhai `t.configure(#{…})` (numbers are parsed), and `-event <name> <body>`
/// registers a command line run when the event fires. Errors are complete messages.
pub fn configure_words(host: &WeakHost, name: &str, words: &[String]) -> Result<(), String> {
    let mut t = TargetHandle::new(name, host);
    let mut opts = Map::new();
    let mut i = 0;
    while i < words.len() {
        let key = words[i].as_str();
        if key == "-event" {
            let (Some(ev), Some(body)) = (words.get(i + 1), words.get(i + 2)) else {
                return Err(format!(
                    "wrong # args: should be \"{name} configure -event event-name body\""
                ));
            };
            add_event(&t, ev, EventHandler::Command(body.clone())).map_err(|e| plain_error(&e))?;
            i += 3;
            continue;
        }
        let Some(v) = words.get(i + 1) else {
            return Err(format!("{name} configure: option '{key}' needs a value"));
        };
        let value = match crate::command::builtin::parse_u64(v) {
            Ok(n) => Dynamic::from(n as i64),
            Err(_) => Dynamic::from(v.clone()),
        };
        opts.insert(key.into(), value);
        i += 2;
    }
    if opts.is_empty() {
        return Ok(());
    }
    t.configure(&opts).map_err(|e| plain_error(&e))
}

/// OpenOCD's `<target> cget -option` from a console or a Tcl file: the value as text (numbers in
/// decimal, as OpenOCD prints them).
pub fn cget_word(host: &WeakHost, name: &str, key: &str) -> Result<String, String> {
    let mut t = TargetHandle::new(name, host);
    t.cget(key)
        .map(|v| v.to_string())
        .map_err(|e| plain_error(&e))
}

fn add_event(t: &TargetHandle, event: &str, h: EventHandler) -> RResult<()> {
    if !EVENT_NAMES.contains(&event) {
        let close = crate::command::suggest::closest(event, EVENT_NAMES.iter().copied());
        let hint = close
            .map(|c| format!("did you mean \"{c}\"? "))
            .unwrap_or_default();
        return err(format!(
            "unknown event '{event}'; {hint}known events: {}",
            EVENT_NAMES.join(", ")
        ));
    }
    t.with(|d| d.events.push((event.to_string(), h)))
}

fn target_by_name(w: &WeakHost, name: &str) -> RResult<TargetHandle> {
    let host = host_of(w)?;
    let t = host.targets();
    if t.by_name(name).is_none() {
        let names: Vec<&str> = t.list.iter().map(|d| d.name.as_str()).collect();
        return err(if names.is_empty() {
            format!(
                "no target named '{name}': no target exists yet; source a target script first, e.g. source(\"targets/stm32f1x.rhai\")"
            )
        } else {
            format!("no target named '{name}'; targets: {}", names.join(", "))
        });
    }
    Ok(TargetHandle::new(name, w))
}

/// Registers the object model on `engine`.
pub fn register(engine: &mut Engine, weak: &WeakHost) {
    engine.register_type_with_name::<TargetHandle>("Target");
    engine.register_type_with_name::<FlashBankHandle>("FlashBank");
    engine.register_type_with_name::<AdapterHandle>("Adapter");
    engine.register_type_with_name::<TransportHandle>("Transport");
    register_targets(engine, weak);
    register_memory_and_run(engine);
    register_flash_banks(engine, weak);
    register_adapter(engine);
    register_commands(engine, weak);
}

fn register_targets(engine: &mut Engine, weak: &WeakHost) {
    // target_create(name, type, #{ chip: "STM32F103C8", work_area_phys: …, … })
    let w = weak.clone();
    engine.register_fn("target_create", move |name: &str, ty: &str, opts: Map| {
        create_target(&w, name, ty, &opts)
    });
    let w = weak.clone();
    engine.register_fn("target", move |name: &str| target_by_name(&w, name));
    let w = weak.clone();
    engine.register_fn("current_target", move || -> RResult<TargetHandle> {
        let host = host_of(&w)?;
        let name = host.targets().current().map(|t| t.name.clone());
        match name {
            Some(n) => Ok(TargetHandle::new(&n, &w)),
            None => err("no current target: source a target script first, e.g. source(\"targets/stm32f1x.rhai\")"),
        }
    });
    let w = weak.clone();
    engine.register_fn("target_names", move || -> RResult<Array> {
        Ok(host_of(&w)?
            .targets()
            .list
            .iter()
            .map(|t| Dynamic::from(t.name.clone()))
            .collect())
    });

    engine.register_get("name", |t: &mut TargetHandle| t.name.clone());
    for key in [
        "chip",
        "coreid",
        "ap_num",
        "dap",
        "work_area_phys",
        "work_area_size",
        "cputapid",
        "reset_type",
        "state",
    ] {
        engine.register_get(key, move |t: &mut TargetHandle| t.cget(key));
    }
    engine.register_get("core", |t: &mut TargetHandle| t.cget("coreid"));
    engine.register_get("ap", |t: &mut TargetHandle| t.cget("ap_num"));
    engine.register_fn("to_string", |t: &mut TargetHandle| t.name.clone());
    engine.register_fn("to_debug", |t: &mut TargetHandle| {
        format!("Target({})", t.name)
    });
    engine.register_fn("configure", |t: &mut TargetHandle, opts: Map| {
        t.configure(&opts)
    });
    engine.register_fn(
        "configure",
        |t: &mut TargetHandle, key: &str, v: Dynamic| {
            let mut m = Map::new();
            m.insert(key.into(), v);
            t.configure(&m)
        },
    );
    engine.register_fn("cget", |t: &mut TargetHandle, key: &str| t.cget(key));

    // Event handlers: t.on("examine-end", || …), t.on("reset-init", "mww 0x… 0x…"), and the
    // free-function form on(t, "event", || …) for closures that capture the target variable.
    engine.register_fn(
        "on",
        |ctx: NativeCallContext, t: &mut TargetHandle, event: &str, f: FnPtr| {
            add_event(t, event, EventHandler::Script(callback(&ctx, f)))
        },
    );
    engine.register_fn("on", |t: &mut TargetHandle, event: &str, body: &str| {
        add_event(t, event, EventHandler::Command(body.to_string()))
    });
    engine.register_fn("eventlist", |t: &mut TargetHandle| -> RResult<Array> {
        t.with(|d| {
            d.events
                .iter()
                .map(|(e, h)| {
                    let body = match h {
                        EventHandler::Command(c) => c.clone(),
                        EventHandler::Script(cb) => format!("closure at {}", cb.origin),
                    };
                    Dynamic::from(format!("{e}: {body}"))
                })
                .collect()
        })
    });
}

fn register_memory_and_run(engine: &mut Engine) {
    for (m, bits) in [
        ("read_u8", 8u32),
        ("read_u16", 16),
        ("read_u32", 32),
        ("read_u64", 64),
    ] {
        engine.register_fn(m, move |t: &mut TargetHandle, addr: i64| -> RResult<i64> {
            Ok(t.read(addr, bits, 1)?[0])
        });
    }
    for (m, bits) in [
        ("write_u8", 8u32),
        ("write_u16", 16),
        ("write_u32", 32),
        ("write_u64", 64),
    ] {
        engine.register_fn(m, move |t: &mut TargetHandle, addr: i64, v: i64| {
            t.write(addr, bits, &[v])
        });
    }
    engine.register_fn(
        "read_memory",
        |t: &mut TargetHandle, addr: i64, width: i64, count: i64| -> RResult<Array> {
            Ok(t.read(addr, width_of(width)?, count)?
                .into_iter()
                .map(Dynamic::from)
                .collect())
        },
    );
    engine.register_fn(
        "write_memory",
        |t: &mut TargetHandle, addr: i64, width: i64, data: Array| -> RResult<()> {
            let bits = width_of(width)?;
            let values = data
                .iter()
                .map(|d| {
                    d.as_int().map_err(|ty| -> Box<EvalAltResult> {
                        format!("write_memory data must be integers, not {ty}").into()
                    })
                })
                .collect::<RResult<Vec<_>>>()?;
            t.write(addr, bits, &values)
        },
    );
    engine.register_fn(
        "mmw",
        |t: &mut TargetHandle, addr: i64, set: i64, clear: i64| -> RResult<()> {
            let (set, clear) = (check_value(set, 32)?, check_value(clear, 32)?);
            t.run(&format!("mmw {:#x} {set:#x} {clear:#x}", addr_of(addr)?))
                .map(|_| ())
        },
    );
    for (m, line) in [
        ("halt", "halt"),
        ("resume", "resume"),
        ("step", "step"),
        ("poll", "poll"),
        ("reset", "reset"),
    ] {
        engine.register_fn(m, move |t: &mut TargetHandle| t.run(line));
    }
    engine.register_fn("halt", |t: &mut TargetHandle, ms: i64| {
        t.run(&format!("halt {ms}"))
    });
    engine.register_fn("wait_halt", |t: &mut TargetHandle, ms: i64| {
        t.run(&format!("wait_halt {ms}"))
    });
    engine.register_fn("resume", |t: &mut TargetHandle, addr: i64| {
        t.run(&format!("resume {:#x}", addr_of(addr)?))
    });
    engine.register_fn("step", |t: &mut TargetHandle, addr: i64| {
        t.run(&format!("step {:#x}", addr_of(addr)?))
    });
    engine.register_fn("reset", |t: &mut TargetHandle, mode: &str| {
        if !matches!(mode, "run" | "halt" | "init") {
            return err(format!("reset mode '{mode}' is not one of run, halt, init"));
        }
        t.run(&format!("reset {mode}"))
    });
    for (m, line) in [
        ("reset_halt", "reset halt"),
        ("reset_run", "reset run"),
        ("reset_init", "reset init"),
    ] {
        engine.register_fn(m, move |t: &mut TargetHandle| t.run(line));
    }
}

fn register_flash_banks(engine: &mut Engine, weak: &WeakHost) {
    fn add(
        w: &WeakHost,
        name: &str,
        driver: &str,
        base: i64,
        size: i64,
        target: &str,
    ) -> RResult<FlashBankHandle> {
        let host = host_of(w)?;
        let base = u32::try_from(base).map_err(|_| -> Box<EvalAltResult> {
            format!("flash_bank base {base:#x} is not a 32-bit address").into()
        })?;
        let size = u32::try_from(size).map_err(|_| -> Box<EvalAltResult> { format!("flash_bank size {size:#x} must be 0 (read from the chip) or a byte count below 4 GiB").into() })?;
        // The internal flash of a family stdbg drives (`stm32f1x`, `stm32l4x`; see
        // crate::family). The external-memory drivers of OpenOCD may be declared (board scripts
        // carry them); stdbg does not touch such a bank unless an image or a command targets it,
        // and then says why it cannot program it.
        const EXTERNAL: [&str; 5] = ["stmqspi", "stmsmi", "cfi", "jtagspi", "fespi"];
        if crate::family::by_driver(driver).is_none() && !EXTERNAL.contains(&driver) {
            let ours: Vec<&str> = crate::family::all()
                .iter()
                .map(|f| f.driver().name())
                .collect();
            return err(format!(
                "flash driver '{driver}' is not supported; stdbg's flash drivers are {} (external-memory banks may be declared with {})",
                ours.join(", "),
                EXTERNAL.join(", ")
            ));
        }
        let mut tg = host.targets();
        if tg.by_name(target).is_none() {
            return err(format!(
                "flash_bank {name}: target '{target}' does not exist; create it with target_create first"
            ));
        }
        if tg.banks.iter().any(|b| b.name == name) {
            return err(format!("flash bank '{name}' already exists"));
        }
        tg.banks.push(FlashBank {
            name: name.to_string(),
            driver: driver.to_string(),
            base: base as u64,
            size,
            target: target.to_string(),
            probed_size: None,
            sector_size: None,
        });
        Ok(FlashBankHandle {
            name: name.to_string(),
            host: w.clone(),
        })
    }
    // flash_bank(name, driver, base, size, target): OpenOCD's
    // `flash bank <name> <driver> <base> <size> 0 0 <target>`; size 0 = read it from the chip.
    let w = weak.clone();
    engine.register_fn(
        "flash_bank",
        move |name: &str, driver: &str, base: i64, size: i64, t: TargetHandle| {
            add(&w, name, driver, base, size, &t.name)
        },
    );
    let w = weak.clone();
    engine.register_fn(
        "flash_bank",
        move |name: &str, driver: &str, base: i64, size: i64, t: &str| {
            add(&w, name, driver, base, size, t)
        },
    );
    engine.register_get("name", |b: &mut FlashBankHandle| b.name.clone());
    engine.register_get("driver", |b: &mut FlashBankHandle| {
        b.with(|b| b.driver.clone())
    });
    engine.register_get("base", |b: &mut FlashBankHandle| b.with(|b| b.base as i64));
    engine.register_get("size", |b: &mut FlashBankHandle| {
        b.with(|b| b.effective_size() as i64)
    });
    engine.register_get("target", |b: &mut FlashBankHandle| {
        b.with(|b| b.target.clone())
    });
    engine.register_fn("to_string", |b: &mut FlashBankHandle| b.name.clone());
}

fn register_adapter(engine: &mut Engine) {
    fn live_speed(a: &AdapterHandle) -> RResult<i64> {
        let h = host_of(&a.host)?;
        let live = h.conn().as_ref().map(|c| c.speed_khz);
        Ok(live.or(h.config().adapter.speed_khz).unwrap_or(0) as i64)
    }
    /// `adapter <sub> <value>` through the dispatcher, as a property setter.
    fn set_word(a: &AdapterHandle, sub: &str, v: &str) -> RResult<()> {
        let line = format!("adapter {sub} {}", command::parse::quote_word(v));
        run_line(&host_of(&a.host)?, &line).map(|_| ())
    }
    engine.register_get_set(
        "driver",
        |a: &mut AdapterHandle| -> RResult<String> {
            Ok(host_of(&a.host)?
                .config()
                .adapter
                .driver
                .clone()
                .unwrap_or_default())
        },
        |a: &mut AdapterHandle, v: String| set_word(a, "driver", &v),
    );
    engine.register_get_set(
        "speed",
        |a: &mut AdapterHandle| live_speed(a),
        |a: &mut AdapterHandle, v: i64| -> RResult<()> {
            run_line(&host_of(&a.host)?, &format!("adapter speed {v}")).map(|_| ())
        },
    );
    // adapter.speed(4000) sets the SWD clock and returns the speed in kHz actually in use.
    engine.register_fn("speed", |a: &mut AdapterHandle, v: i64| -> RResult<i64> {
        run_line(&host_of(&a.host)?, &format!("adapter speed {v}"))?;
        live_speed(a)
    });
    engine.register_get_set(
        "serial",
        |a: &mut AdapterHandle| -> RResult<String> {
            Ok(host_of(&a.host)?
                .config()
                .adapter
                .serial
                .clone()
                .unwrap_or_default())
        },
        |a: &mut AdapterHandle, v: String| set_word(a, "serial", &v),
    );
    engine.register_fn("srst_assert", |a: &mut AdapterHandle| -> RResult<()> {
        run_line(&host_of(&a.host)?, "adapter assert srst").map(|_| ())
    });
    engine.register_fn("srst_deassert", |a: &mut AdapterHandle| -> RResult<()> {
        run_line(&host_of(&a.host)?, "adapter deassert srst").map(|_| ())
    });
    engine.register_get("reset_config", |a: &mut AdapterHandle| -> RResult<String> {
        run_line(&host_of(&a.host)?, "reset_config")
    });
    engine.register_fn(
        "reset_config",
        |a: &mut AdapterHandle, words: &str| -> RResult<()> {
            run_line(&host_of(&a.host)?, &format!("reset_config {words}")).map(|_| ())
        },
    );
    engine.register_fn(
        "select",
        |t: &mut TransportHandle, name: &str| -> RResult<()> {
            run_line(
                &host_of(&t.host)?,
                &format!("transport select {}", command::parse::quote_word(name)),
            )
            .map(|_| ())
        },
    );
    engine.register_get("selected", |t: &mut TransportHandle| -> RResult<String> {
        run_line(&host_of(&t.host)?, "transport select")
    });
}

fn register_commands(engine: &mut Engine, weak: &WeakHost) {
    // fail("message"): makes a script-registered command fail with exactly this message (no
    // script positions), for errors meant for the user rather than the script's author.
    engine.register_fn("fail", |msg: &str| -> RResult<()> {
        Err(EvalAltResult::ErrorRuntime(
            Dynamic::from(super::CommandFailure(msg.to_string())),
            rhai::Position::NONE,
        )
        .into())
    });
    // register_command(name, help, usage, |args| …): a new dispatcher command, usable from every
    // front end. The handler gets the words after the name as an array of strings; what it
    // returns (unless `()`) is printed.
    let w = weak.clone();
    engine.register_fn("register_command", move |ctx: NativeCallContext, name: &str, help: &str, usage: &str, f: FnPtr| -> RResult<()> {
        let host = host_of(&w)?;
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        let valid = !name.is_empty()
            && name.split(' ').count() <= 3
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '));
        if !valid {
            return err(format!(
                "register_command: '{name}' is not a valid command name: use one to three words of letters, digits, '_', '-' or '.'"
            ));
        }
        let script = host.script();
        if host.registry().get(&name).is_some() && !script.is_script_command(&name) {
            return err(format!("register_command: '{name}' is a built-in command and cannot be replaced; choose another name"));
        }
        let cb = callback(&ctx, f);
        let wh = w.clone();
        let cmd_name = name.clone();
        let spec = command::command(&name, Mode::Any, usage, help, move |ctx, args| {
            let host = wh.upgrade().ok_or_else(|| command::CommandError::failed("the debug host has shut down"))?;
            host.script().call_command(ctx, &cmd_name, &cb, args)
        });
        host.registry_mut().add(spec);
        script.note_script_command(&name);
        Ok(())
    });
}
