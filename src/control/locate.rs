//! Maps a TOML key path (`group[0].api[1].path`) to its line, using the
//! spans the `toml` parser keeps, so every error names the line to edit.

use toml::de::{DeTable, DeValue};

/// 1-based line of the value at `path` in `source`, or of the deepest
/// ancestor that exists.
pub fn line_of(source: &str, path: &str) -> Option<usize> {
    let root = DeTable::parse(source).ok()?;
    let mut table = root.get_ref();
    let mut found: Option<usize> = None;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, index) = split_index(part);
        let Some(value) = table.get(key) else {
            break;
        };
        found = Some(value.span().start);
        let mut value = value.get_ref();
        if let Some(i) = index {
            let DeValue::Array(items) = value else {
                break;
            };
            let Some(item) = items.get(i) else {
                break;
            };
            found = Some(item.span().start);
            value = item.get_ref();
        }
        match value {
            DeValue::Table(t) => table = t,
            _ => break,
        }
    }
    found.map(|offset| line_at(source, offset))
}

/// `api[2]` → (`api`, Some(2)).
fn split_index(part: &str) -> (&str, Option<usize>) {
    match part.find('[') {
        Some(open) => {
            let index = part[open + 1..].trim_end_matches(']').parse().ok();
            (&part[..open], index)
        }
        None => (part, None),
    }
}

/// 1-based line containing byte `offset`.
pub fn line_at(source: &str, offset: usize) -> usize {
    let end = offset.min(source.len());
    source.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_walks_tables_and_arrays_of_tables() {
        let src = "[server]\nworkers = 2\n\n[[group]]\nname = \"a\"\n\n[[group.api]]\nname = \"x\"\npath = \"/x\"\n\n[[group.api]]\nname = \"y\"\npath = \"bad\"\n";
        assert_eq!(line_of(src, "server.workers"), Some(2));
        assert_eq!(line_of(src, "group[0].api[1].path"), Some(13));
        assert_eq!(line_of(src, "group[0].api[0].name"), Some(8));
        // A key that is absent resolves to its nearest ancestor.
        let ancestor = line_of(src, "group[0].api[1].backend").unwrap();
        assert!((11..=13).contains(&ancestor), "{ancestor}");
        assert_eq!(line_of(src, "nowhere"), None);
    }
}
