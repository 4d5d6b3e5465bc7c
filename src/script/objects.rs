//! The object model scripts see: `adapter`, `transport`, targets (`target_create`), flash banks
//! (`flash_bank`), event handlers (`t.on("examine-end", || …)`) and script-defined commands
//! (`register_command`).

use std::sync::{Arc, Mutex};

use rhai::{Dynamic, Engine, EvalAltResult, FnPtr, Map, AST};

use super::{host_of, run_line, Callback};
use crate::command::{self, Mode};
use crate::host::target::{EventHandler, FlashBank, TargetDef, EVENT_NAMES};
use crate::host::WeakHost;

type Asts = Arc<Mutex<Vec<(Arc<AST>, String)>>>;
type RResult<T> = Result<T, Box<EvalAltResult>>;

/// A handle to a target declared by a script (`let t = target_create(…)`). All copies refer to
/// the same target.
#[derive(Clone)]
pub struct TargetHandle {
    name: String,
    host: WeakHost,
}

/// The `adapter` object (`adapter.driver = "stlink"`, `adapter.speed = 4000`, `adapter.serial`).
#[derive(Clone)]
pub struct AdapterHandle {
    host: WeakHost,
}

/// The `transport` object (`transport.select("swd")`).
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

fn callback(asts: &Asts, f: FnPtr) -> RResult<Callback> {
    let (ast, origin) = asts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .last()
        .cloned()
        .ok_or_else(|| -> Box<EvalAltResult> { "callbacks can only be registered while a script runs".into() })?;
    Ok(Callback { fnptr: f, ast, origin })
}

fn int_of(m: &Map, key: &str) -> RResult<Option<i64>> {
    match m.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_int()
            .map(Some)
            .map_err(|t| format!("option '{key}' must be an integer, not {t}").into()),
    }
}

impl TargetHandle {
    fn with<R>(&self, f: impl FnOnce(&mut TargetDef) -> R) -> RResult<R> {
        let host = host_of(&self.host)?;
        let mut t = host.targets();
        let def = t
            .by_name_mut(&self.name)
            .ok_or_else(|| -> Box<EvalAltResult> { format!("target {} no longer exists", self.name).into() })?;
        Ok(f(def))
    }

    fn configure(&mut self, opts: Map) -> RResult<()> {
        let chip = opts.get("chip").map(|v| v.to_string());
        let ap = int_of(&opts, "ap")?;
        let wa = int_of(&opts, "work_area_phys")?;
        let ws = int_of(&opts, "work_area_size")?;
        let dpidr = int_of(&opts, "cputapid")?;
        let devids: Option<Vec<u32>> = match opts.get("dev_ids") {
            Some(v) => Some(
                v.clone()
                    .into_array()
                    .map_err(|t| -> Box<EvalAltResult> { format!("dev_ids must be an array, not {t}").into() })?
                    .iter()
                    .map(|d| d.as_int().map(|i| i as u32).unwrap_or(0))
                    .collect(),
            ),
            None => None,
        };
        for k in opts.keys() {
            if !["chip", "ap", "work_area_phys", "work_area_size", "cputapid", "dev_ids", "type"].contains(&k.as_str()) {
                return Err(format!(
                    "unknown target option '{k}'; known: chip, ap, work_area_phys, work_area_size, cputapid, dev_ids"
                )
                .into());
            }
        }
        self.with(|t| {
            if let Some(c) = chip {
                t.chip = c;
            }
            if let Some(a) = ap {
                t.ap = a as u8;
            }
            if let Some(a) = wa {
                t.work_area_phys = a as u32;
            }
            if let Some(s) = ws {
                t.work_area_size = s as u32;
            }
            if let Some(d) = dpidr {
                t.expected_dpidr = d as u32;
            }
            if let Some(d) = devids {
                t.expected_dev_ids = d;
            }
        })
    }
}

/// Registers the object model on `engine`.
pub fn register(engine: &mut Engine, weak: &WeakHost, asts: Asts) {
    engine.register_type_with_name::<TargetHandle>("Target");
    engine.register_type_with_name::<AdapterHandle>("Adapter");
    engine.register_type_with_name::<TransportHandle>("Transport");

    // target_create(name, type, #{ chip: "STM32F103C8", work_area_phys: …, … })
    {
        let w = weak.clone();
        engine.register_fn("target_create", move |name: &str, ty: &str, opts: Map| -> RResult<TargetHandle> {
            if ty != "cortex_m" {
                return Err(format!("target type '{ty}' is not supported; stdbg drives 'cortex_m' targets").into());
            }
            let host = host_of(&w)?;
            {
                let mut t = host.targets();
                if t.by_name(name).is_some() {
                    return Err(format!("target '{name}' already exists: each target script may be sourced once").into());
                }
                let mut def = TargetDef::new(name, "");
                def.core_index = t.list.len();
                t.list.push(def);
                t.current = t.list.len() - 1;
            }
            let mut h = TargetHandle { name: name.to_string(), host: w.clone() };
            h.configure(opts)?;
            if h.with(|t| t.chip.is_empty())? {
                return Err(format!("target_create: option 'chip' (the probe-rs chip name, e.g. \"STM32F103C8\") is required for {name}").into());
            }
            Ok(h)
        });
    }
    engine.register_get("name", |t: &mut TargetHandle| t.name.clone());
    engine.register_get("chip", |t: &mut TargetHandle| -> RResult<String> { t.with(|d| d.chip.clone()) });
    engine.register_get("work_area_size", |t: &mut TargetHandle| -> RResult<i64> { t.with(|d| d.work_area_size as i64) });
    engine.register_get("work_area_phys", |t: &mut TargetHandle| -> RResult<i64> { t.with(|d| d.work_area_phys as i64) });
    engine.register_get("state", |t: &mut TargetHandle| -> RResult<String> { t.with(|d| d.state.as_str().to_string()) });
    engine.register_fn("configure", |t: &mut TargetHandle, opts: Map| t.configure(opts));
    {
        let asts = asts.clone();
        engine.register_fn("on", move |t: &mut TargetHandle, event: &str, f: FnPtr| -> RResult<()> {
            if !EVENT_NAMES.contains(&event) {
                return Err(format!("unknown event '{event}'; events: {}", EVENT_NAMES.join(", ")).into());
            }
            let cb = callback(&asts, f)?;
            t.with(|d| d.events.push((event.to_string(), EventHandler::Script(cb))))
        });
        engine.register_fn("on", move |t: &mut TargetHandle, event: &str, body: &str| -> RResult<()> {
            if !EVENT_NAMES.contains(&event) {
                return Err(format!("unknown event '{event}'; events: {}", EVENT_NAMES.join(", ")).into());
            }
            t.with(|d| d.events.push((event.to_string(), EventHandler::Command(body.to_string()))))
        });
    }
    // Memory and run control as methods: t.read_u32(addr), t.write_u32(addr, v), t.halt(), …
    for (m, cmdline) in [("halt", "halt"), ("resume", "resume"), ("step", "step"), ("reset_halt", "reset halt"), ("reset_run", "reset run"), ("reset_init", "reset init")] {
        let w = weak.clone();
        engine.register_fn(m, move |_t: &mut TargetHandle| -> RResult<String> { run_line(&host_of(&w)?, cmdline) });
    }
    {
        let w = weak.clone();
        engine.register_fn("read_u32", move |_t: &mut TargetHandle, addr: i64| -> RResult<i64> {
            let host = host_of(&w)?;
            let b = host.read_memory(addr as u64, 4).map_err(|e| -> Box<EvalAltResult> { e.to_string().into() })?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64)
        });
        let w = weak.clone();
        engine.register_fn("write_u32", move |_t: &mut TargetHandle, addr: i64, v: i64| -> RResult<()> {
            run_line(&host_of(&w)?, &format!("mww {addr:#x} {:#x}", v as u32)).map(|_| ())
        });
    }

    // flash_bank(name, driver, base, size, target)
    {
        let w = weak.clone();
        engine.register_fn("flash_bank", move |name: &str, driver: &str, base: i64, size: i64, t: TargetHandle| -> RResult<()> {
            let host = host_of(&w)?;
            let mut tg = host.targets();
            if tg.banks.iter().any(|b| b.name == name) {
                return Err(format!("flash bank '{name}' already exists").into());
            }
            tg.banks.push(FlashBank {
                name: name.to_string(),
                driver: driver.to_string(),
                base: base as u64,
                size: size as u32,
                target: t.name.clone(),
                probed_size: None,
                sector_size: None,
            });
            Ok(())
        });
    }

    engine.register_get_set(
        "driver",
        |a: &mut AdapterHandle| -> RResult<String> { Ok(host_of(&a.host)?.config().adapter.driver.clone().unwrap_or_default()) },
        |a: &mut AdapterHandle, v: String| -> RResult<()> { run_line(&host_of(&a.host)?, &format!("adapter driver {}", command::parse::quote_word(&v))).map(|_| ()) },
    );
    engine.register_get_set(
        "speed",
        |a: &mut AdapterHandle| -> RResult<i64> {
            let h = host_of(&a.host)?;
            let live = h.conn().as_ref().map(|c| c.speed_khz);
            Ok(live.or(h.config().adapter.speed_khz).unwrap_or(0) as i64)
        },
        |a: &mut AdapterHandle, v: i64| -> RResult<()> { run_line(&host_of(&a.host)?, &format!("adapter speed {v}")).map(|_| ()) },
    );
    engine.register_get_set(
        "serial",
        |a: &mut AdapterHandle| -> RResult<String> { Ok(host_of(&a.host)?.config().adapter.serial.clone().unwrap_or_default()) },
        |a: &mut AdapterHandle, v: String| -> RResult<()> { run_line(&host_of(&a.host)?, &format!("adapter serial {}", command::parse::quote_word(&v))).map(|_| ()) },
    );
    engine.register_fn("set_speed", |a: &mut AdapterHandle, v: i64| -> RResult<i64> {
        let h = host_of(&a.host)?;
        run_line(&h, &format!("adapter speed {v}"))?;
        let live = h.conn().as_ref().map(|c| c.speed_khz);
        Ok(live.or(h.config().adapter.speed_khz).unwrap_or(0) as i64)
    });
    engine.register_fn("select", |t: &mut TransportHandle, name: &str| -> RResult<String> {
        run_line(&host_of(&t.host)?, &format!("transport select {}", command::parse::quote_word(name)))
    });

    // register_command(name, help, usage, |args| …)
    {
        let w = weak.clone();
        let asts = asts.clone();
        engine.register_fn("register_command", move |name: &str, help: &str, usage: &str, f: FnPtr| -> RResult<()> {
            let host = host_of(&w)?;
            if name.trim().is_empty() || name.contains(|c: char| c == ';' || c == '"' || c == '{') {
                return Err(format!("register_command: '{name}' is not a valid command name").into());
            }
            let cb = callback(&asts, f)?;
            let wh = w.clone();
            let spec = command::command(name, Mode::Any, usage, help, move |ctx, args| {
                let host = wh.upgrade().ok_or_else(|| command::CommandError::failed("host gone"))?;
                host.script().call_command(ctx, &cb, args)
            });
            host.registry_mut().add(spec);
            Ok(())
        });
    }
    let _ = Dynamic::UNIT;
}
