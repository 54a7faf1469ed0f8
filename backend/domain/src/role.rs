//! What a caller of the API may do: the contract's [`api_types::Role`], whose
//! order is the privilege (an admin may do everything a reader may).

pub use api_types::Role;

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn an_admin_outranks_a_reader() {
        assert!(Role::Admin > Role::Reader);
        assert_eq!("admin".parse(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }
}
