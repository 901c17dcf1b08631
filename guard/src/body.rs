//! A prebuilt body with slots for the request id.

/// A body with the request id still to be slotted in between its pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Body(pub(crate) Vec<String>);

impl Body {
    pub(crate) fn with_id(&self, id: &str) -> String {
        let len = self.0.iter().map(String::len).sum::<usize>() + id.len() * (self.0.len() - 1);
        let mut out = String::with_capacity(len);
        for (i, piece) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_str(id);
            }
            out.push_str(piece);
        }
        out
    }
}
