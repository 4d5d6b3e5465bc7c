# Test fixture standing for cortex-debug's support/openocd-helpers.tcl (written for stdbg's
# tests; it uses the same Tcl constructs and OpenOCD commands as that file: set, proc, catch,
# try/on error, foreach, if/else, llength, lindex, incr, info script, puts stderr,
# target names|current, tpiu names|init, $tgt cget|configure, $tpiu configure|enable).
set USE_SWO 0
proc CDSWOConfigure { CDCPUFreqHz CDSWOFreqHz CDSWOOutput } {
    catch {tpiu init}; # may be called more than once
    set names [tpiu names]
    if { [llength $names] == 0 } {
        puts stderr "[info script]: Error: no TPIU/SWO object"
    } else {
        set t [lindex $names 0]
        puts "[info script]: $t configure -protocol uart -output $CDSWOOutput -traceclk $CDCPUFreqHz -pin-freq $CDSWOFreqHz"
        $t configure -protocol uart -output $CDSWOOutput -traceclk $CDCPUFreqHz -pin-freq $CDSWOFreqHz
        $t enable
    }
}

proc CDRTOSConfigure { rtos } {
    set target [target current]
    if { $target != "" } {
        puts "[info script]: $target configure -rtos $rtos"
        $target configure -rtos $rtos
    } else {
        puts stderr "[info script]: Error: no current target"
    }
}

proc CDLiveWatchSetup {} {
    try {
        foreach tgt [target names] {
            set n [$tgt cget -gdb-max-connections]
            if { $n > 0 } {
                incr n
                $tgt configure -gdb-max-connections $n
                puts "[info script]: Info: Setting gdb-max-connections for target '$tgt' to $n"
            }
        }
    } on error {} {
        puts stderr "[info script]: Error: Failed to increase gdb-max-connections"
    }
}
