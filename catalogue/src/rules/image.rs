//! Family `catalogue/image`: the image reference and the registry that serves it.

use crate::model::{CatalogueSpec, RegistrySku};
use crate::names::shown;
use policy::{Check, Rule, Severity, Sink};

const FAMILY: &str = "catalogue/image";

pub(super) const IMAGE_IMMUTABLE: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "image-immutable",
        family: FAMILY,
        severity: Severity::Error,
        summary: "the image is pinned by a version tag or a sha256 digest, never `latest`",
        why: "a moving tag makes rollbacks and PR diffs meaningless",
        fix: "set `tag` to a version (`1.4.2`) or `digest` to `sha256:<64 hex>`, not both",
    },
    check: image_immutable,
};

/// A tag as the registry accepts it: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn is_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && !tag.starts_with(['.', '-'])
}

/// `sha256:` and 64 lowercase hex digits.
pub fn is_digest(d: &str) -> bool {
    let hex = d.strip_prefix("sha256:").unwrap_or("");
    hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn image_immutable(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let app = &c.app;
    match (&app.tag, &app.digest) {
        (Some(_), Some(_)) => sink.report(
            "app.digest",
            "both `tag` and `digest` are set",
            "keep one: the digest pins the image exactly",
        ),
        (None, None) => sink.report(
            "app",
            "the image has neither `tag` nor `digest`",
            "add `tag: \"1.0.0\"` or `digest: sha256:<64 hex>`",
        ),
        (Some(tag), None) => {
            if !is_tag(tag) {
                sink.report(
                    "app.tag",
                    format!("`{}` is not a valid image tag", shown(tag)),
                    "use letters, digits, `.`, `_`, `-` (at most 128), e.g. `1.4.2`",
                );
            } else if !tag.bytes().any(|b| b.is_ascii_digit()) {
                // `latest`, `stable`, `main`: a tag without a digit names no build.
                sink.report(
                    "app.tag",
                    format!("tag `{tag}` moves: it does not pin a build"),
                    "use a version (`1.4.2`), a commit tag (`sha-1a2b3c4`) or a `digest`",
                );
            }
        }
        (None, Some(d)) => {
            if !is_digest(d) {
                sink.report(
                    "app.digest",
                    format!("`{}` is not a sha256 digest", shown(d)),
                    "use `sha256:` followed by 64 lowercase hex digits",
                );
            }
        }
    }
}

pub(super) const IMAGE_REPOSITORY: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "image-repository",
        family: FAMILY,
        severity: Severity::Error,
        summary: "`app.image` is a repository path the registry accepts (OCI distribution grammar)",
        why: "the kubelet cannot pull `../hello` or `Hello`: every pod stays in ImagePullBackOff",
        fix: "use lowercase path components such as `hello` or `team/hello` (no host, no tag)",
    },
    check: image_repository,
};

/// One path component: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn is_repo_component(p: &str) -> bool {
    let b = p.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &p[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-')) {
            return false;
        }
    }
    true
}

fn image_repository(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let image = &c.app.image;
    let full = c.registry.login_server().len() + 1 + image.len();
    if image.is_empty() || !image.split('/').all(is_repo_component) {
        sink.report(
            "app.image",
            format!("`{}` is not an image repository name", shown(image)),
            "use a repository path inside the registry, e.g. `hello` or `team/hello` (lowercase, no registry host, no tag)",
        );
    } else if full > 255 {
        sink.report(
            "app.image",
            format!("the image name is {full} characters with the registry host, above 255"),
            "use a shorter repository path",
        );
    }
}

pub(super) const REGISTRY_PREMIUM: Check<CatalogueSpec> = Check {
    rule: Rule {
        id: "registry-premium",
        family: FAMILY,
        severity: Severity::Error,
        summary: "the registry is Premium when geo-replication or zone redundancy is asked for",
        why: "ARM refuses replication and zone redundancy on Basic and Standard",
        fix: "use `sku: Premium`",
    },
    check: registry_premium,
};

fn registry_premium(c: &CatalogueSpec, sink: &mut Sink<'_>) {
    let r = &c.registry;
    let replicated = c.regions.iter().any(|reg| reg.name != r.home);
    if r.sku != RegistrySku::Premium && (replicated || r.zone_redundancy) {
        let why = if replicated {
            "geo-replication to the other regions"
        } else {
            "zone redundancy"
        };
        sink.report(
            "registry.sku",
            format!("{:?} does not support {why}", r.sku),
            "use `sku: Premium`",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_components_follow_the_distribution_grammar() {
        for ok in ["hello", "a", "team__x", "a.b", "a-b", "a---b", "a_b", "x1"] {
            assert!(is_repo_component(ok), "{ok}");
        }
        for bad in [
            "", "..", ".a", "a.", "a..b", "a._b", "a___b", "Hello", "a b", "-a", "a-",
        ] {
            assert!(!is_repo_component(bad), "{bad}");
        }
    }

    #[test]
    fn tags_and_digests() {
        assert!(is_tag("1.0.0") && is_tag("_x") && is_tag(&"a".repeat(128)));
        assert!(!is_tag("") && !is_tag(".a") && !is_tag("-a") && !is_tag(&"a".repeat(129)));
        assert!(!is_tag("a/b") && !is_tag("a:b"));
        assert!(is_digest(&format!("sha256:{}", "0f".repeat(32))));
        assert!(!is_digest(&format!("sha256:{}", "0F".repeat(32))));
        assert!(!is_digest(&format!("sha256:{}", "0g".repeat(32))));
        assert!(!is_digest(&format!("sha256:{}", "0".repeat(63))));
        assert!(!is_digest(&format!("sha512:{}", "0".repeat(64))));
    }
}
