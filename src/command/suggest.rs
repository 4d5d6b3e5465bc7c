//! "Did you mean …?" for unknown command names.

/// The known name closest to `word` by edit distance, if it is close enough to be a likely typo
/// (distance at most 1 for short words, 2 otherwise) or if `word` is a prefix of exactly one
/// name.
pub fn closest<'a>(word: &str, names: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    let mut prefixed: Vec<&str> = Vec::new();
    for name in names {
        let first = name.split(' ').next().unwrap_or(name);
        if first.starts_with(word) && !prefixed.contains(&first) {
            prefixed.push(first);
        }
        let d = levenshtein(word, first);
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, first));
        }
    }
    let limit = if word.chars().count() <= 4 { 1 } else { 2 };
    match best {
        Some((d, n)) if d <= limit => Some(n.to_string()),
        _ if prefixed.len() == 1 => Some(prefixed[0].to_string()),
        _ => None,
    }
}

/// Levenshtein distance over chars.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_typos_and_prefixes() {
        let names = [
            "mdw",
            "mdh",
            "reset",
            "flash banks",
            "flash write_image",
            "halt",
        ];
        assert_eq!(closest("rest", names.iter().copied()), Some("reset".into()));
        assert_eq!(closest("flsh", names.iter().copied()), Some("flash".into()));
        assert_eq!(closest("hal", names.iter().copied()), Some("halt".into()));
        assert_eq!(closest("zzzzzz", names.iter().copied()), None);
    }
}
