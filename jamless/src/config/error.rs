//! Configuration errors that say where: the file, the line and column, the
//! key, and what was expected.

use std::ops::Range;

use crate::error::Error;

/// The text being read and the name to report it by.
#[derive(Clone, Copy)]
pub(crate) struct Source<'a> {
    pub(crate) origin: &'a str,
    pub(crate) text: &'a str,
}

impl Source<'_> {
    /// 1-based line and column (in characters) of a byte offset.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before
            .get(line_start..)
            .map_or(1, |s| s.chars().count() + 1);
        (line, col)
    }

    /// An error about `key`, at `span` if it is known.
    pub(crate) fn error(&self, span: Option<Range<usize>>, key: &str, message: &str) -> Error {
        let key = if key.is_empty() || key == "." {
            "(top level)"
        } else {
            key
        };
        match span {
            Some(span) => {
                let (line, col) = self.line_col(span.start);
                Error::config(format!("{}:{line}:{col}: {key}: {message}", self.origin))
            }
            None => Error::config(format!("{}: {key}: {message}", self.origin)),
        }
    }
}

/// Parses the TOML into the model, with the key path of any error.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(src: Source<'_>) -> Result<T, Error> {
    let de = toml::Deserializer::parse(src.text).map_err(|e| toml_error(src, "", &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        // A `Spanned` value shows up in the path as a private field.
        let key = e
            .path()
            .to_string()
            .replace(".$__serde_spanned_private_value", "");
        toml_error(src, &key, e.inner())
    })
}

fn toml_error(src: Source<'_>, key: &str, e: &toml::de::Error) -> Error {
    // The message is one line; the span says where.
    let message = e.message().trim().replace('\n', " ");
    src.error(e.span(), key, &message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based() {
        let src = Source {
            origin: "f.toml",
            text: "a = 1\nbé = 2\n",
        };
        assert_eq!(src.line_col(0), (1, 1));
        assert_eq!(src.line_col(6), (2, 1));
        assert_eq!(src.line_col(9), (2, 3));
        let e = src.error(Some(6..7), "b", "bad").to_string();
        assert!(e.contains("f.toml:2:1: b: bad"), "{e}");
    }
}
