fn main() {
    std::process::exit(stdbg::cli::main());
}
