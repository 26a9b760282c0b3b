//! Log lines to the system log (`/dev/log`) when the daemon has detached, as ISC dhcpd does.

use std::io::{self, Write};
use std::os::unix::net::UnixDatagram;
use std::sync::Arc;

use tracing_subscriber::fmt::MakeWriter;

/// Facility `daemon` (3) at priority `info` (6): RFC 5424's PRI of 3 × 8 + 6.
const PRI: u8 = 30;

/// Opens writers that send each formatted event as one syslog datagram.
#[derive(Clone)]
pub(crate) struct Syslog {
    socket: Option<Arc<UnixDatagram>>,
}

impl Syslog {
    /// Connects to `/dev/log`; without it, lines are dropped.
    pub(crate) fn connect() -> Syslog {
        let socket = UnixDatagram::unbound()
            .and_then(|s| s.connect("/dev/log").map(|()| s))
            .ok()
            .map(Arc::new);
        Syslog { socket }
    }
}

/// One event's text, sent when the writer is dropped.
pub(crate) struct Line {
    socket: Option<Arc<UnixDatagram>>,
    text: Vec<u8>,
}

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        let Some(socket) = &self.socket else { return };
        while self.text.last() == Some(&b'\n') {
            self.text.pop();
        }
        let mut datagram = format!("<{PRI}>charruad[{}]: ", std::process::id()).into_bytes();
        datagram.extend_from_slice(&self.text);
        let _ = socket.send(&datagram);
    }
}

impl<'a> MakeWriter<'a> for Syslog {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            socket: self.socket.clone(),
            text: Vec::new(),
        }
    }
}
