//! Tests of `scripts/dev.sh deps`, the set-up behind the README's two commands and CI: what it
//! installs, and when. `apt-get`, `dpkg-query` and `sudo` are stand-ins that record their
//! calls, so the tests install nothing and see exactly what the script would have run.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BUILD_PACKAGES: [&str; 4] = ["libclang-dev", "build-essential", "pkg-config", "zlib1g-dev"];

/// A folder of stand-in commands and the log they write.
struct Stubs {
    dir: tempfile::TempDir,
}

impl Stubs {
    /// `dpkg-query` reports the packages of `installed` as installed and no others.
    fn new(installed: &[&str], with_sudo: bool) -> anyhow::Result<Stubs> {
        let dir = tempfile::tempdir()?;
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777))?;
        let log = dir.path().join("calls.log");
        fs::write(&log, "")?;
        fs::set_permissions(&log, fs::Permissions::from_mode(0o666))?;
        let log = log.display();
        let installed = installed.join(" ");
        let mut scripts = vec![
            (
                "dpkg-query",
                format!(
                    "pkg=${{!#}}; for p in {installed}; do [ \"$p\" = \"$pkg\" ] && {{ printf 'install ok installed'; exit 0; }}; done; exit 1"
                ),
            ),
            ("apt-get", format!("echo \"apt-get $*\" >> {log}")),
            ("cargo", "exit 0".to_string()),
        ];
        if with_sudo {
            scripts.push(("sudo", format!("echo \"sudo $1\" >> {log}; exec \"$@\"")));
        }
        for (name, body) in scripts {
            let path = dir.path().join(name);
            fs::write(&path, format!("#!/usr/bin/env bash\n{body}\n"))?;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))?;
        }
        // The script, where any user can read it.
        fs::create_dir(dir.path().join("scripts"))?;
        fs::copy(script(), dir.path().join("scripts/dev.sh"))?;
        fs::set_permissions(dir.path().join("scripts"), fs::Permissions::from_mode(0o755))?;
        Ok(Stubs { dir })
    }

    /// Runs `dev.sh deps ARGS` with the stand-ins first on the `PATH`, and then only the
    /// system's own folders (no other `sudo`).
    fn deps(&self, args: &[&str], as_nobody: bool) -> anyhow::Result<Output> {
        let mut cmd = if as_nobody {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "bash"]);
            c
        } else {
            Command::new("bash")
        };
        cmd.arg(self.dir.path().join("scripts/dev.sh")).arg("deps").args(args);
        cmd.env("PATH", format!("{}:/usr/bin:/bin", self.dir.path().display())).env("HOME", self.dir.path());
        Ok(cmd.output()?)
    }

    fn calls(&self) -> anyhow::Result<Vec<String>> {
        Ok(fs::read_to_string(self.dir.path().join("calls.log"))?.lines().map(str::to_owned).collect())
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/dev.sh")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn installs_nothing_when_every_package_is_there() -> anyhow::Result<()> {
    let stubs = Stubs::new(&BUILD_PACKAGES, true)?;
    let out = stubs.deps(&[], false)?;
    assert!(out.status.success(), "dev.sh deps failed: {}", stderr(&out));
    assert_eq!(stubs.calls()?, Vec::<String>::new(), "nothing is missing, yet something ran");
    Ok(())
}

#[test]
fn installs_exactly_the_missing_packages_with_one_update() -> anyhow::Result<()> {
    let stubs = Stubs::new(&["build-essential", "zlib1g-dev"], true)?;
    let out = stubs.deps(&["shellcheck"], false)?;
    assert!(out.status.success(), "dev.sh deps failed: {}", stderr(&out));
    let install = "apt-get install -y -q --no-install-recommends libclang-dev pkg-config shellcheck";
    let expected: Vec<String> = if is_root() {
        vec!["apt-get update -q".into(), install.into()]
    } else {
        vec!["sudo apt-get".into(), "apt-get update -q".into(), "sudo apt-get".into(), install.into()]
    };
    assert_eq!(stubs.calls()?, expected);
    assert!(stderr(&out).contains("installing libclang-dev pkg-config shellcheck"), "{}", stderr(&out));
    Ok(())
}

#[test]
fn without_root_or_sudo_names_the_missing_packages_and_fails() -> anyhow::Result<()> {
    if !is_root() || Path::new("/usr/bin/sudo").exists() || Path::new("/bin/sudo").exists() {
        // Dropping to another user needs root; a real sudo on the PATH would be used.
        eprintln!("skipped: needs root and no sudo in /usr/bin or /bin");
        return Ok(());
    }
    let stubs = Stubs::new(&["build-essential", "pkg-config", "zlib1g-dev"], false)?;
    let out = stubs.deps(&[], true)?;
    assert_eq!(out.status.code(), Some(1), "dev.sh deps should fail: {}", stderr(&out));
    assert!(stderr(&out).contains("these Debian packages are missing: libclang-dev"), "{}", stderr(&out));
    assert!(stderr(&out).contains("apt-get install libclang-dev"), "{}", stderr(&out));
    assert_eq!(stubs.calls()?, Vec::<String>::new(), "nothing may run without root");
    Ok(())
}
