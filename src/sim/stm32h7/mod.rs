pub(crate) mod flash;
pub(crate) mod options;
#[cfg(test)]
mod flash_tests;
