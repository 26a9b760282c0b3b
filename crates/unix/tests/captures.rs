//! `charrua decode` over real DHCP traffic: the captures under `testdata/captures/`, and,
//! when network namespace tests are on, traffic recorded afresh from the real peers.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/captures")
}

fn capture_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    files.sort();
    files
}

/// Runs `charrua decode --verify --json` on one file; returns the exit success and the
/// decoded messages.
fn decode(file: &Path) -> (bool, Vec<Value>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_charrua"))
        .args(["decode", "--verify", "--json"])
        .arg(file)
        .output()
        .expect("running charrua decode");
    let stdout = String::from_utf8(output.stdout).expect("utf-8 output");
    let messages = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    (
        output.status.success(),
        messages,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn types(messages: &[Value]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|m| m["type"].as_str().map(str::to_owned))
        .collect()
}

/// Every capture decodes and verifies. Each holds a whole DORA exchange whose ACK carries the
/// lease the servers were configured to give, except the INFORM capture, whose ACK carries
/// parameters only; the NAK and DECLINE captures hold those messages too.
fn check_captures(dir: &Path) {
    let files = capture_files(dir);
    assert!(
        files.len() >= 9,
        "expected a capture per client and server, found {files:?}"
    );
    for file in files {
        let (ok, messages, stderr) = decode(&file);
        let name = file.display().to_string();
        assert!(ok, "{name}: decode failed:\n{stderr}");
        assert!(
            messages.iter().all(|m| m["verified"] == true),
            "{name}: not verified"
        );
        let types = types(&messages);
        let has = |wanted: &str| types.iter().any(|t| t == wanted);
        let ack = messages
            .iter()
            .find(|m| m["type"] == "DHCPACK")
            .expect("an ACK");
        let options = ack["message"]["options"].as_array().expect("options");
        let carries = |key: &str| options.iter().any(|o| o.get(key).is_some());
        let yiaddr = ack["message"]["yiaddr"].as_str().expect("yiaddr");
        if name.contains("-inform") {
            assert!(has("DHCPINFORM"), "{name}: no DHCPINFORM in {types:?}");
            assert_eq!(
                yiaddr, "0.0.0.0",
                "{name}: an INFORM's ACK gives no address"
            );
            assert!(
                !carries("LeaseTime"),
                "{name}: an INFORM's ACK has no lease time"
            );
            continue;
        }
        for wanted in ["DHCPDISCOVER", "DHCPOFFER", "DHCPREQUEST", "DHCPACK"] {
            assert!(has(wanted), "{name}: no {wanted} in {types:?}");
        }
        assert!(yiaddr.starts_with("192.0.2."), "{name}: ACK for {yiaddr}");
        for key in ["ServerIdentifier", "LeaseTime", "SubnetMask", "Routers"] {
            assert!(carries(key), "{name}: ACK without {key}: {options:?}");
        }
        if name.contains("-nak") {
            assert!(has("DHCPNAK"), "{name}: no DHCPNAK in {types:?}");
        }
        if name.contains("-decline") {
            assert!(has("DHCPDECLINE"), "{name}: no DHCPDECLINE in {types:?}");
        }
    }
}

#[test]
fn decodes_and_verifies_every_recorded_capture() {
    check_captures(&captures_dir());
}

#[test]
fn records_and_decodes_fresh_traffic_from_real_peers() {
    if std::env::var_os("CHARRUA_NETNS_TESTS").is_none() {
        eprintln!("skipped: set CHARRUA_NETNS_TESTS=1 (scripts/test does, as root)");
        return;
    }
    let out = std::env::temp_dir().join(format!("charrua-captures-{}", std::process::id()));
    std::fs::create_dir_all(&out).expect("temporary directory");
    let status = Command::new("bash")
        .arg(captures_dir().join("record.sh"))
        .arg(&out)
        .status()
        .expect("running record.sh");
    assert!(status.success(), "record.sh failed");
    check_captures(&out);
    let _ = std::fs::remove_dir_all(&out);
}
