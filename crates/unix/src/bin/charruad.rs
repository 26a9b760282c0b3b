//! `charruad`: the Charrua DHCPv4 server. See `charruad --help`.

fn main() -> std::process::ExitCode {
    charrua_unix::daemon::main()
}
