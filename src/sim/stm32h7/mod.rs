pub(crate) mod flash;
#[cfg(test)]
mod flash_tests;
pub(crate) mod options;
