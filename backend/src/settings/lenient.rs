//! Value parsers for the variables that were read before clap read them,
//! so that they parse as they always did.

use std::path::PathBuf;

/// A number read as these variables always were, before clap read them:
/// trimmed, and the default when it is empty or not a number (a typo in a
/// tuning variable never stopped a run).
#[derive(Clone)]
pub(super) struct OrDefault<T>(pub(super) T);

impl<T> clap::builder::TypedValueParser for OrDefault<T>
where
    T: std::str::FromStr + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        Ok(value
            .to_str()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| self.0.clone()))
    }
}

/// A folder read as these variables always were: any path, the default when empty.
#[derive(Clone)]
pub(super) struct PathOrDefault(pub(super) &'static str);

impl clap::builder::TypedValueParser for PathOrDefault {
    type Value = PathBuf;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<PathBuf, clap::Error> {
        Ok(PathBuf::from(if value.is_empty() {
            std::ffi::OsStr::new(self.0)
        } else {
            value
        }))
    }
}
