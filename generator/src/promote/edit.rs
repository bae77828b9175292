//! Pinning a region's image in the catalogue text: the `image:` line changes in place, or,
//! for a region that followed the candidate, one `image:` line is added after its `name:`.

use catalogue::Locator;

pub fn set_region_image(source: &str, index: usize, value: &str) -> Result<String, String> {
    let path = format!("regions[{index}].image");
    let locator = Locator::new(source);
    if locator.scalar_span(&path).is_some() {
        return catalogue::set_scalar(source, &path, value).map_err(|e| e.to_string());
    }
    let (start, _) = locator
        .scalar_span(&format!("regions[{index}].name"))
        .ok_or_else(|| format!("cannot find regions[{index}].name"))?;
    let at = catalogue::line_at(source, start)
        .ok_or_else(|| format!("cannot find the line of regions[{index}].name"))?;
    let (line, line_end) = (at.text(source), at.next_line(source));
    let value_at = at.at - at.start;
    let before = &line[..value_at];
    let key_at = before
        .trim_end()
        .strip_suffix("name:")
        .map(str::len)
        .filter(|&k| !before[..k].contains(['{', '#']))
        .ok_or_else(|| {
            format!(
                "regions[{index}] is not written in block style (`- name: …` on its own line): add `image: \"<tag>\"` to it by hand"
            )
        })?;
    let quoted = format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""));
    let newline = if line_end > at.end { "" } else { "\n" };
    let mut out = String::with_capacity(source.len() + key_at + 16);
    out.push_str(&source[..line_end]);
    out.push_str(newline);
    out.push_str(&" ".repeat(key_at));
    out.push_str(&format!("image: {quoted}\n"));
    out.push_str(&source[line_end..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_line_changes_in_place_or_is_added_after_the_name() {
        let src = "regions:\n  - name: a # first\n    image: \"1.0.0\"\n    priority: 1\n  - name: b\n    priority: 2\n";
        assert_eq!(
            set_region_image(src, 0, "1.1.0").unwrap(),
            src.replace("\"1.0.0\"", "\"1.1.0\"")
        );
        assert_eq!(
            set_region_image(src, 1, "1.0.0").unwrap(),
            src.replace("  - name: b\n", "  - name: b\n    image: \"1.0.0\"\n")
        );
        let flow = "regions:\n  - { name: a, priority: 1 }\n";
        assert!(
            set_region_image(flow, 0, "1.0.0")
                .unwrap_err()
                .contains("block style")
        );
    }
}
