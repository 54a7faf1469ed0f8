//! The sign-in and who is signed in: the form that exchanges a pasted token
//! for the API's session cookie, and the header's user menu.

pub mod sign_in_form;
pub mod user_menu;
