//! The instance tag: an optional part of the file name that keeps the files
//! of one process (host, pod, pid) apart from those of its neighbours.
//!
//! A tag is written as a template with placeholders, expanded once when the
//! logger is built and then sanitised:
//!
//! | placeholder | value |
//! |---|---|
//! | `{host}` | the host name (`/proc/sys/kernel/hostname`, else `/etc/hostname`), else `$HOSTNAME` |
//! | `{pod}` | `$POD_NAME` (set it from the Kubernetes downward API), else `$HOSTNAME`, else the host name |
//! | `{pid}` | `pid-` and the process id (`pid-4711`) |
//! | `{random}` | eight random characters, a letter then letters and digits |
//!
//! Sanitising keeps `[A-Za-z0-9._-]` and turns any other character into
//! `_`, breaks up `..`, trims dots at both ends and cuts the tag to 64
//! characters, so a tag can never leave the log directory or hide a file.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use super::label::Label;
use crate::Error;

/// The longest tag, in bytes (all ASCII after sanitising).
const MAX_TAG: usize = 64;

/// What the placeholders of a tag template expand to; gathered once from
/// the process by [`InstanceEnv::from_process`], or made up in tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct InstanceEnv {
    /// The host name from `gethostname`.
    pub(crate) host: Option<String>,
    /// `$POD_NAME`.
    pub(crate) pod_name: Option<String>,
    /// `$HOSTNAME` (in Kubernetes, the pod's name).
    pub(crate) hostname_env: Option<String>,
    /// The process id.
    pub(crate) pid: u32,
    /// The value of `{random}`.
    pub(crate) random: String,
}

impl InstanceEnv {
    /// Reads the host name, the environment and the pid, and draws the
    /// random tag.
    pub(crate) fn from_process() -> InstanceEnv {
        let non_empty = |value: String| (!value.is_empty()).then_some(value);
        InstanceEnv {
            host: host_name(),
            pod_name: std::env::var("POD_NAME").ok().and_then(non_empty),
            hostname_env: std::env::var("HOSTNAME").ok().and_then(non_empty),
            pid: std::process::id(),
            random: random_tag(),
        }
    }
}

/// Expands the placeholders of `template` and sanitises the result.
///
/// # Errors
///
/// A configuration error for an unknown placeholder or an unclosed `{`, a
/// value that cannot be found (no host name), a tag that is empty after
/// sanitising, or one that would read as a date or size index in a file
/// name (all digits, or a date).
#[cfg(test)]
pub(crate) fn expand(template: &str, env: &InstanceEnv) -> Result<String, Error> {
    expand_noted(template, env).map(|(tag, _)| tag)
}

/// [`expand`], and a note for the error handler when sanitising changed
/// the expanded value (a `$POD_NAME` of `../../etc`, a `/` or a NUL in a
/// template): the tag is still used, sanitised, and the user is told.
pub(crate) fn expand_noted(
    template: &str,
    env: &InstanceEnv,
) -> Result<(String, Option<String>), Error> {
    let mut raw = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        raw.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            return Err(Error::config(format!(
                "instance tag {template:?}: unclosed '{{'"
            )));
        };
        let name = &rest[open + 1..open + close];
        let value = match name {
            "host" => env.host.clone().or_else(|| env.hostname_env.clone()),
            "pod" => env
                .pod_name
                .clone()
                .or_else(|| env.hostname_env.clone())
                .or_else(|| env.host.clone()),
            "pid" => Some(format!("pid-{}", env.pid)),
            "random" => Some(env.random.clone()),
            other => {
                return Err(Error::config(format!(
                    "instance tag {template:?}: unknown placeholder {{{other}}} (use {{host}}, {{pod}}, {{pid}} or {{random}})"
                )))
            }
        };
        let Some(value) = value else {
            return Err(Error::config(format!(
                "instance tag {template:?}: no value for {{{name}}}"
            )));
        };
        raw.push_str(&value);
        rest = &rest[open + close + 1..];
    }
    raw.push_str(rest);
    let tag = sanitize(&raw);
    if tag.is_empty() {
        return Err(Error::config(format!(
            "instance tag {template:?} is empty after sanitising"
        )));
    }
    if tag.bytes().all(|b| b.is_ascii_digit()) || Label::parse(&tag).is_some() {
        return Err(Error::config(format!(
            "instance tag {tag:?} would read as a size index or a date in file names"
        )));
    }
    let note = (tag != raw).then(|| {
        format!(
            "instance tag {template:?} expanded to {raw:?}, which is not a safe file name \
             part (only A-Z a-z 0-9 . _ - are kept, no '..', no leading or trailing '.'); \
             using {tag:?}"
        )
    });
    Ok((tag, note))
}

/// Keeps `[A-Za-z0-9._-]`, replaces anything else with `_`, breaks up
/// `..`, trims dots at both ends and cuts to 64 bytes.
pub(crate) fn sanitize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_TAG));
    for c in raw.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            c
        } else {
            '_'
        };
        let c = if c == '.' && out.ends_with('.') {
            '_'
        } else {
            c
        };
        out.push(c);
    }
    let trimmed = out.trim_matches('.');
    let cut = &trimmed[..trimmed.len().min(MAX_TAG)];
    cut.trim_end_matches('.').to_string()
}

/// The host name (the kernel's, as `gethostname` reports it), or `None`
/// if it cannot be read.
fn host_name() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|text| text.trim().to_string())
        .find(|name| !name.is_empty())
}

/// Eight characters, a lowercase letter then lowercase letters and digits,
/// from the std hasher's per-process random keys, the time and the pid.
fn random_tag() -> String {
    let mut hasher = RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    let mut bits = hasher.finish();
    const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(8);
    out.push(char::from(LETTERS[(bits % 26) as usize]));
    bits /= 26;
    for _ in 0..7 {
        out.push(char::from(ALNUM[(bits % 36) as usize]));
        bits /= 36;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> InstanceEnv {
        InstanceEnv {
            host: Some("web-1.example.com".into()),
            pod_name: Some("pod-7".into()),
            hostname_env: Some("pod-7-hostname".into()),
            pid: 4711,
            random: "k3x9a0bq".into(),
        }
    }

    fn ok(template: &str, env: &InstanceEnv) -> String {
        expand(template, env).unwrap_or_else(|e| panic!("{template:?}: {e}"))
    }

    #[test]
    fn placeholders_expand() {
        let env = env();
        assert_eq!(ok("{pod}", &env), "pod-7");
        assert_eq!(ok("{host}", &env), "web-1.example.com");
        assert_eq!(ok("{pid}", &env), "pid-4711");
        assert_eq!(ok("{random}", &env), "k3x9a0bq");
        assert_eq!(ok("{host}-{pid}", &env), "web-1.example.com-pid-4711");
        assert_eq!(ok("blue", &env), "blue");
    }

    #[test]
    fn pod_falls_back_to_hostname_then_host() {
        let mut env = env();
        env.pod_name = None;
        assert_eq!(ok("{pod}", &env), "pod-7-hostname");
        env.hostname_env = None;
        assert_eq!(ok("{pod}", &env), "web-1.example.com");
        env.host = None;
        assert!(expand("{pod}", &env).is_err_and(|e| e.is_config()));
        assert!(expand("{host}", &env).is_err_and(|e| e.is_config()));
        assert_eq!(ok("{pid}", &env), "pid-4711");
    }

    #[test]
    fn bad_templates_are_config_errors() {
        let env = env();
        for template in ["{nope}", "{pod", "", ".", "12345", "2026-11-27"] {
            let result = expand(template, &env);
            assert!(
                result.as_ref().is_err_and(|e| e.is_config()),
                "{template:?}: {result:?}"
            );
        }
    }

    #[test]
    fn sanitising_keeps_tags_inside_the_directory() {
        assert_eq!(sanitize("../../etc/passwd"), "__.__etc_passwd");
        assert_eq!(sanitize("a..b...c"), "a._b._.c");
        assert_eq!(sanitize(".hidden."), "hidden");
        assert_eq!(sanitize("pod 7/ä\n"), "pod_7___");
        assert_eq!(sanitize(&"x".repeat(100)).len(), 64);
        let long_dots = format!("{}.{}", "a".repeat(63), "b");
        assert_eq!(sanitize(&long_dots), "a".repeat(63));
        for raw in ["../x", "a/..", "..", "a\0b", "x..y", &"é".repeat(80)] {
            let tag = sanitize(raw);
            assert!(!tag.contains(".."), "{raw:?} -> {tag:?}");
            assert!(!tag.contains('/'), "{raw:?} -> {tag:?}");
            assert!(!tag.starts_with('.'), "{raw:?} -> {tag:?}");
            assert!(tag.len() <= MAX_TAG);
            assert!(tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)));
        }
    }

    #[test]
    fn random_tags_are_names_not_numbers() {
        let a = random_tag();
        assert_eq!(a.len(), 8);
        assert!(a.as_bytes()[0].is_ascii_lowercase());
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        assert_eq!(sanitize(&a), a);
        let env = InstanceEnv::from_process();
        assert_eq!(env.pid, std::process::id());
        assert!(expand("{random}", &env).is_ok());
    }

    #[test]
    fn hostile_pod_names_are_sanitised_and_noted() {
        for pod in ["../../etc/x", "a/b", "..", "x\0y", "/abs"] {
            let env = InstanceEnv {
                pod_name: Some(pod.to_string()),
                ..InstanceEnv::default()
            };
            let (tag, note) = expand_noted("{pod}", &env).unwrap();
            assert!(
                !tag.contains(['/', '\0']) && !tag.contains(".."),
                "{pod:?} -> {tag:?}"
            );
            let note = note.unwrap_or_else(|| panic!("{pod:?}: sanitised without a note"));
            assert!(note.contains(&format!("{tag:?}")), "{note}");
        }
        // A clean value needs no note.
        let env = InstanceEnv {
            pod_name: Some("web-7f9c".into()),
            ..InstanceEnv::default()
        };
        assert_eq!(
            expand_noted("{pod}", &env).unwrap(),
            ("web-7f9c".into(), None)
        );
        // A NUL or '/' in the template itself is sanitised and noted too.
        let (tag, note) = expand_noted("a/\0b", &env).unwrap();
        assert_eq!(tag, "a__b");
        assert!(note.is_some());
    }
}
