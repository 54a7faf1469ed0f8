//! The sign-in page: shown instead of any page while nobody is signed in
//! (the API answered 401), at the address asked for, which opens once signed in.

use yew::prelude::*;

use crate::components::session::sign_in_form::SignInForm;
use crate::hooks::use_title;

#[derive(Properties, PartialEq)]
pub struct SignInPageProps {
    /// Why the dashboard is signed out, when it was by an answer or by the user.
    #[prop_or_default]
    pub notice: Option<AttrValue>,
}

#[component]
pub fn SignInPage(props: &SignInPageProps) -> Html {
    use_title("Sign in · Revenue analytics".to_owned());
    html! {
        <main class="page">
            <div class="narrow">
                <section class="card" aria-labelledby="sign-in-title">
                    <header class="card-head">
                        <div>
                            <h2 id="sign-in-title">{ "Sign in" }</h2>
                            <p class="subtitle">{ "This server's reports need an API token." }</p>
                        </div>
                    </header>
                    <SignInForm notice={props.notice.clone()} />
                </section>
            </div>
        </main>
    }
}
