//! Splitting a console line into commands and words, with Tcl's quoting rules as OpenOCD users
//! know them.
//!
//! A line holds one or more commands separated by `;` or a newline. Words are separated by
//! blanks. `"double quotes"` group a word and honour backslash escapes (`\"`, `\\`, `\n`, `\t`);
//! `{braces}` group a word literally and nest; a backslash outside quotes escapes the next
//! character. A command whose first word starts with `#` is a comment. `shell-words` cannot be
//! used here because POSIX shells have no brace quoting, which OpenOCD scripts rely on
//! (e.g. `-event examine-end { mmw 0xE0042004 0x307 0 }`).

use thiserror::Error;

/// Why a line could not be split into words.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// missing close-quote: a `"` opened at column {column} is never closed; add the closing `"`
    #[error(
        "missing close-quote: the \" opened at column {column} is never closed; add the closing \""
    )]
    UnclosedQuote {
        /// 1-based column of the opening quote.
        column: usize,
    },
    /// missing close-brace: a `{` opened at column {column} is never closed; add the closing `}`
    #[error(
        "missing close-brace: the {{ opened at column {column} is never closed; add the closing }}"
    )]
    UnclosedBrace {
        /// 1-based column of the opening brace.
        column: usize,
    },
    /// extra characters after close-quote or close-brace
    #[error(
        "extra characters after close-quote or close-brace at column {column}: separate the words with a space"
    )]
    TrailingAfterQuote {
        /// 1-based column of the first extra character.
        column: usize,
    },
}

/// Splits `line` into commands, each a list of words. Empty commands and comments are dropped.
///
/// ```
/// use stdbg::command::parse::split_commands;
/// let cmds = split_commands(r#"mdw 0x08000000 4; echo "a b" {c {d}}"#).unwrap();
/// assert_eq!(cmds, vec![vec!["mdw", "0x08000000", "4"], vec!["echo", "a b", "c {d}"]]);
/// ```
pub fn split_commands(line: &str) -> Result<Vec<Vec<String>>, ParseError> {
    let chars: Vec<char> = line.chars().collect();
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut i = 0;
    let n = chars.len();
    let finish = |words: &mut Vec<String>, commands: &mut Vec<Vec<String>>| {
        if !words.is_empty() {
            if !words[0].starts_with('#') {
                commands.push(std::mem::take(words));
            } else {
                words.clear();
            }
        }
    };
    while i < n {
        let c = chars[i];
        if c == ';' || c == '\n' || c == '\r' {
            finish(&mut words, &mut commands);
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        // A comment runs to the end of the line (not just to the next `;`, as in Tcl).
        if words.is_empty() && c == '#' {
            while i < n && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        let mut word = String::new();
        if c == '"' {
            i += 1;
            loop {
                if i >= n {
                    return Err(ParseError::UnclosedQuote { column: start + 1 });
                }
                match chars[i] {
                    '"' => {
                        i += 1;
                        break;
                    }
                    '\\' if i + 1 < n => {
                        word.push(unescape(chars[i + 1]));
                        i += 2;
                    }
                    ch => {
                        word.push(ch);
                        i += 1;
                    }
                }
            }
            check_separator(&chars, i)?;
        } else if c == '{' {
            let mut depth = 1;
            i += 1;
            loop {
                if i >= n {
                    return Err(ParseError::UnclosedBrace { column: start + 1 });
                }
                match chars[i] {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    '\\' if i + 1 < n => {
                        word.push('\\');
                        i += 1;
                    }
                    _ => {}
                }
                word.push(chars[i]);
                i += 1;
            }
            check_separator(&chars, i)?;
        } else {
            while i < n {
                let ch = chars[i];
                if ch.is_whitespace() || ch == ';' {
                    break;
                }
                if ch == '\\' && i + 1 < n {
                    word.push(unescape(chars[i + 1]));
                    i += 2;
                    continue;
                }
                word.push(ch);
                i += 1;
            }
        }
        words.push(word);
    }
    finish(&mut words, &mut commands);
    Ok(commands)
}

fn check_separator(chars: &[char], i: usize) -> Result<(), ParseError> {
    match chars.get(i) {
        None => Ok(()),
        Some(c) if c.is_whitespace() || *c == ';' => Ok(()),
        Some(_) => Err(ParseError::TrailingAfterQuote { column: i + 1 }),
    }
}

fn unescape(c: char) -> char {
    match c {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        other => other,
    }
}

/// Quotes `word` so that [`split_commands`] gives it back unchanged (used when a Rhai call such
/// as `mdw(0x08000000, 4)` is turned into a command line).
pub fn quote_word(word: &str) -> String {
    if !word.is_empty()
        && !word
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, ';' | '"' | '{' | '}' | '\\' | '#'))
    {
        return word.to_string();
    }
    let mut s = String::with_capacity(word.len() + 2);
    s.push('"');
    for c in word.chars() {
        match c {
            '"' | '\\' => {
                s.push('\\');
                s.push(c);
            }
            '\n' => s.push_str("\\n"),
            '\t' => s.push_str("\\t"),
            '\r' => s.push_str("\\r"),
            _ => s.push(c),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(v: &[&[&str]]) -> Vec<Vec<String>> {
        v.iter()
            .map(|c| c.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn splits_words_and_commands() {
        assert_eq!(
            split_commands("reset halt").unwrap(),
            w(&[&["reset", "halt"]])
        );
        assert_eq!(
            split_commands("  halt ;resume 0x8000100;; ").unwrap(),
            w(&[&["halt"], &["resume", "0x8000100"]])
        );
        assert_eq!(split_commands("").unwrap(), w(&[]));
        assert_eq!(
            split_commands("# a comment; still comment\nhalt").unwrap(),
            w(&[&["halt"]])
        );
    }

    #[test]
    fn quotes_and_braces() {
        assert_eq!(
            split_commands(r#"echo "a \"b\" c""#).unwrap(),
            w(&[&["echo", r#"a "b" c"#]])
        );
        assert_eq!(
            split_commands("x {a {b c} ; d} e").unwrap(),
            w(&[&["x", "a {b c} ; d", "e"]])
        );
        assert_eq!(split_commands(r#"echo """#).unwrap(), w(&[&["echo", ""]]));
        assert_eq!(
            split_commands(r"echo a\ b").unwrap(),
            w(&[&["echo", "a b"]])
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            split_commands(r#"echo "abc"#),
            Err(ParseError::UnclosedQuote { column: 6 })
        );
        assert_eq!(
            split_commands("echo {a {b}"),
            Err(ParseError::UnclosedBrace { column: 6 })
        );
        assert_eq!(
            split_commands(r#"echo "a"b"#),
            Err(ParseError::TrailingAfterQuote { column: 9 })
        );
    }

    #[test]
    fn quote_round_trip() {
        for s in [
            "plain",
            "",
            "a b",
            "x\"y",
            "{brace}",
            "semi;colon",
            "back\\slash",
            "#hash",
        ] {
            let line = format!("echo {}", quote_word(s));
            assert_eq!(split_commands(&line).unwrap(), w(&[&["echo", s]]), "{line}");
        }
    }

    #[test]
    fn random_input_never_panics() {
        // A small LCG over a byte alphabet rich in the parser's special characters.
        let alphabet: Vec<char> = "ab 0x;\"{}\\#\n\t\r\u{0}é\u{1b}[]".chars().collect();
        let mut x: u64 = 0x2545F4914F6CDD1D;
        for _ in 0..20_000 {
            let mut s = String::new();
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (x >> 58) as usize;
            for _ in 0..len {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push(alphabet[(x >> 33) as usize % alphabet.len()]);
            }
            let _ = split_commands(&s);
        }
    }
}
