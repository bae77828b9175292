//! Names that become paths, Kubernetes objects or Azure resources, validated while the
//! catalogue is deserialised: a bad one is a schema error at its own line, and no later code
//! (a writer joining it into a path, a template) ever sees it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::Deref;

/// Longest value echoed whole in a message; longer ones are cut (a 20 MB value never is).
pub const SHOWN_MAX: usize = 80;

/// `value` for a message: cut to `SHOWN_MAX` characters, with the full length said.
pub fn shown(value: &str) -> String {
    if value.chars().count() <= SHOWN_MAX {
        return value.to_string();
    }
    let cut: String = value.chars().take(SHOWN_MAX).collect();
    format!("{cut}… ({} bytes in all)", value.len())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $check:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Validates `s`; the error says what the grammar is.
            pub fn new(s: impl Into<String>) -> Result<Self, String> {
                let s = s.into();
                $check(&s)?;
                Ok(Self(s))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<std::path::Path> for $name {
            fn as_ref(&self) -> &std::path::Path {
                std::path::Path::new(&self.0)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for serde_json::Value {
            fn eq(&self, other: &$name) -> bool {
                self.as_str() == Some(other.as_str())
            }
        }

        impl From<$name> for String {
            fn from(n: $name) -> String {
                n.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::new(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

name_type!(
    /// An Azure region id such as `eastus2`: 1-40 lowercase ASCII letters and digits. It names
    /// a directory (`overlays/<region>`), Kubernetes objects and ARM resources, so it is always
    /// one safe path component. Whether Azure knows it is the rule `region-known`.
    RegionName,
    check_region
);

name_type!(
    /// A Kubernetes object or namespace name: an RFC 1123 label (1-63 lowercase letters,
    /// digits and `-`, starting and ending with a letter or digit).
    KubeName,
    check_kube_name
);

fn check_region(s: &str) -> Result<(), String> {
    if !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Ok(());
    }
    let squashed: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let hint = match crate::regions::suggest_region(&squashed) {
        Some(r) if !squashed.is_empty() && squashed.len() <= SHOWN_MAX => {
            format!(" (did you mean `{r}`?)")
        }
        _ => String::new(),
    };
    Err(format!(
        "`{}` is not an Azure region id: expected 1-40 lowercase letters and digits such as `eastus2`{hint}",
        shown(s)
    ))
}

fn check_kube_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a Kubernetes name: expected 1-63 lowercase letters, digits and `-`, starting and ending with a letter or digit",
            shown(s)
        ))
    }
}

impl KubeName {
    /// For the catalogue's own defaults, which are valid by construction.
    pub(crate) fn known(s: &str) -> Self {
        debug_assert!(check_kube_name(s).is_ok());
        Self(s.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_are_one_safe_path_component() {
        assert!(RegionName::new("eastus2").is_ok());
        for bad in [
            "",
            "../../victim",
            "East US 2",
            "a/b",
            ".",
            "eastus2 ",
            &"a".repeat(41),
        ] {
            assert!(RegionName::new(bad).is_err(), "{bad:?}");
        }
        assert!(RegionName::new("a".repeat(40)).is_ok());
        let e = RegionName::new("East US 2").unwrap_err();
        assert!(e.contains("did you mean `eastus2`"), "{e}");
    }

    #[test]
    fn kube_names_are_rfc1123_labels() {
        assert!(KubeName::new("hello-1").is_ok());
        assert!(KubeName::new("a".repeat(63)).is_ok());
        for bad in ["", "-a", "a-", "Hello", "a_b", "a.b", &"a".repeat(64)] {
            assert!(KubeName::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_compare_with_strings_and_serialize_plain() {
        let r = RegionName::new("eastus2").unwrap();
        assert_eq!(r, "eastus2");
        assert_eq!("eastus2", r);
        assert_eq!(r, *"eastus2");
        assert_eq!(String::from("eastus2"), r);
        assert_ne!(r, "westus");
        assert_eq!(r.len(), 7);
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"eastus2\"");
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let long = "x".repeat(20_000_000);
        let m = shown(&long);
        assert!(m.len() < 200, "{}", m.len());
        assert!(m.ends_with("(20000000 bytes in all)"));
        assert_eq!(shown("short"), "short");
    }
}
