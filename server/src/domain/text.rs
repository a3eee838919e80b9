//! Text and fields a person or a report enters: lengths, control and bidirectional characters,
//! and the error that names the field at fault (an API answers 422 naming it).

/// Which field is wrong and why (an API answers 422 naming it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError { field: field.into(), message: message.into() }
    }
}

impl std::error::Error for FieldError {}

/// Where a field's error joins other text (a report's or an upload's refusal).
impl From<FieldError> for String {
    fn from(e: FieldError) -> String {
        e.to_string()
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Refuses a field longer than `max` bytes, naming it (the documented limits keep every value
/// within what both databases index).
pub fn check_len(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.len() > max {
        Err(FieldError::new(field, format!("{} bytes, at most {max}", value.len())))
    } else {
        Ok(())
    }
}

/// Bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069): they
/// reorder how text is shown, so a title could read differently in a mail or a page than it is.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Free text a person enters (a title, a note, a reason): trimmed, `min` to `max` characters, no
/// control characters but line feeds, no bidirectional controls. The error names `field`.
pub fn free_text(field: &str, s: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let t = s.trim();
    let n = t.chars().count();
    if n < min || n > max {
        return Err(FieldError::new(field, format!("{min} to {max} characters of text")));
    }
    if t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(FieldError::new(field, "holds control characters"));
    }
    if t.chars().any(is_bidi_control) {
        return Err(FieldError::new(field, "holds bidirectional control characters (U+202A–U+202E, U+2066–U+2069)"));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_refuses_controls_and_every_bidi_control() {
        assert_eq!(free_text("title", "  Patch openssl\nnow ", 1, 200).unwrap(), "Patch openssl\nnow");
        for c in ('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{2069}') {
            let e = free_text("title", &format!("invoice{c}fdp.exe"), 1, 200).unwrap_err();
            assert!(e.to_string().starts_with("title: holds bidirectional"), "{c:?}: {e}");
        }
        assert!(free_text("note", "a\u{0007}b", 0, 10).unwrap_err().to_string().contains("control"));
        assert!(free_text("title", "", 1, 10).is_err());
        assert!(free_text("title", &"é".repeat(11), 1, 10).is_err());
        assert_eq!(free_text("title", "שלום world", 1, 20).unwrap(), "שלום world", "right-to-left text itself is fine");
    }
}
