//! `charruad`'s command line, in ISC dhcpd's style with long forms beside.

use std::net::SocketAddrV4;
use std::path::PathBuf;

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Args {
    /// `-cf FILE`: the configuration.
    pub(crate) config: PathBuf,
    /// `-lf FILE`: the lease journal.
    pub(crate) leases: PathBuf,
    /// `-pf FILE`: where to write the process id.
    pub(crate) pid_file: Option<PathBuf>,
    /// `-f`: stay in the foreground.
    pub(crate) foreground: bool,
    /// `-d`: stay in the foreground and log to standard error at debug level.
    pub(crate) debug: bool,
    /// `-q`: no banner.
    pub(crate) quiet: bool,
    /// `-t`: check the configuration and exit.
    pub(crate) test: bool,
    /// `--udp ADDR:PORT`: where to take relayed (and, alone, all) traffic over UDP.
    pub(crate) udp: Option<SocketAddrV4>,
    /// `--no-raw`: open no packet sockets, serve only through UDP.
    pub(crate) no_raw: bool,
    /// `-user NAME`: the user to run as after binding.
    pub(crate) user: Option<String>,
    /// `-group NAME`: the group to run as after binding.
    pub(crate) group: Option<String>,
    /// `-chroot`: change root to the lease journal's directory before dropping privileges.
    pub(crate) chroot: bool,
    /// Interfaces to serve; all with an address in a configured subnet when empty.
    pub(crate) interfaces: Vec<String>,
}

/// What `charruad --help` prints.
pub(crate) const HELP: &str = "\
charruad: a DHCPv4 server that reads ISC dhcpd's dhcpd.conf and dhcpd.leases

Usage: charruad [options] [INTERFACE...]

Serves every interface with an address in a configured subnet (or only the
INTERFACEs named) through packet sockets, and relayed traffic through UDP.
Every lease is synced to the lease journal before its DHCPACK is sent.

Options:
  -cf, --config FILE     configuration file [/etc/dhcp/dhcpd.conf]
  -lf, --leases FILE     lease journal, in dhcpd.leases format
                         [/var/lib/dhcp/dhcpd.leases]
  -pf, --pid-file FILE   write the process id to FILE
  -f,  --foreground      do not detach from the terminal
  -d,  --debug           stay in the foreground, log to standard error with
                         debug detail (one line per dropped packet)
  -q,  --quiet           print no start-up banner
  -t,  --test            check the configuration, print every problem with
                         file:line:column, and exit (0 when it is valid)
       --udp ADDR:PORT   take relayed traffic on this UDP address
                         [0.0.0.0:67 when packet sockets are used]; any port
                         works, so the server also runs unprivileged on
                         loopback (with --no-raw)
       --no-raw          open no packet sockets: UDP only
  -user, --user NAME     run as this user once the sockets are open
  -group, --group NAME   run as this group once the sockets are open
  -chroot, --chroot      change root to the lease journal's directory first
  -h,  --help            print this help
  -V,  --version         print the version

Signals: SIGHUP re-reads the configuration (a bad one is reported and the old
one kept); SIGTERM and SIGINT finish the batch in flight, sync and exit;
SIGUSR1 prints the counters. RUST_LOG overrides the log level.
";

/// Parses the arguments after the program name. `Ok(None)` means help or version was
/// printed.
pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        config: PathBuf::from("/etc/dhcp/dhcpd.conf"),
        leases: PathBuf::from("/var/lib/dhcp/dhcpd.leases"),
        pid_file: None,
        foreground: false,
        debug: false,
        quiet: false,
        test: false,
        udp: None,
        no_raw: false,
        user: None,
        group: None,
        chroot: false,
        interfaces: Vec::new(),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value (see --help)"))
        };
        match arg.as_str() {
            "-cf" | "--config" => parsed.config = PathBuf::from(value(&arg)?),
            "-lf" | "--leases" => parsed.leases = PathBuf::from(value(&arg)?),
            "-pf" | "--pid-file" => parsed.pid_file = Some(PathBuf::from(value(&arg)?)),
            "-f" | "--foreground" => parsed.foreground = true,
            "-d" | "--debug" => parsed.debug = true,
            "-q" | "--quiet" => parsed.quiet = true,
            "-t" | "-T" | "--test" => parsed.test = true,
            "--udp" => {
                let text = value(&arg)?;
                let address = text
                    .parse()
                    .map_err(|_| format!("--udp: expected ADDRESS:PORT, got {text:?}"))?;
                parsed.udp = Some(address);
            }
            "--no-raw" => parsed.no_raw = true,
            "-user" | "--user" => parsed.user = Some(value(&arg)?),
            "-group" | "--group" => parsed.group = Some(value(&arg)?),
            "-chroot" | "--chroot" => parsed.chroot = true,
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("charruad {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            // ISC flags with no meaning here, accepted so existing service files keep working.
            "-4" | "--no-pid" => {}
            "-p" | "-s" | "-tf" | "-play" => {
                return Err(format!("{arg}: not supported"));
            }
            flag if flag.starts_with('-') => {
                return Err(format!("unknown option {flag} (see --help)"));
            }
            interface => parsed.interfaces.push(interface.to_owned()),
        }
    }
    Ok(Some(parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(args: &[&str]) -> Result<Option<Args>, String> {
        parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn reads_isc_style_flags_and_interfaces() {
        let args = parse_all(&[
            "-cf", "a.conf", "-lf", "b.leases", "-pf", "p", "-f", "-q", "eth0",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(args.config, PathBuf::from("a.conf"));
        assert_eq!(args.leases, PathBuf::from("b.leases"));
        assert_eq!(args.pid_file, Some(PathBuf::from("p")));
        assert!(args.foreground && args.quiet && !args.debug);
        assert_eq!(args.interfaces, ["eth0"]);
    }

    #[test]
    fn reads_long_forms_and_udp_address() {
        let args = parse_all(&["--config", "c", "--udp", "127.0.0.1:6767", "--no-raw", "-t"])
            .unwrap()
            .unwrap();
        assert_eq!(args.udp, Some("127.0.0.1:6767".parse().unwrap()));
        assert!(args.no_raw && args.test);
    }

    #[test]
    fn refuses_unknown_flags_and_missing_values() {
        assert!(
            parse_all(&["--bogus"])
                .unwrap_err()
                .contains("unknown option --bogus")
        );
        assert!(
            parse_all(&["-cf"])
                .unwrap_err()
                .contains("-cf needs a value")
        );
        assert!(
            parse_all(&["--udp", "nowhere"])
                .unwrap_err()
                .contains("ADDRESS:PORT")
        );
    }
}
