//! The sign-in form: a pasted API token goes to `POST /session` and nowhere
//! else. The field is read when the form is sent and emptied right after, so
//! the token lives only in that one request (never in state or storage); the
//! API answers with an HttpOnly cookie the dashboard cannot read.

use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api;
use crate::session::{SessionAction, SessionContext};

#[derive(Properties, PartialEq)]
pub struct SignInFormProps {
    /// Why the dashboard is signed out (the session expired, the user signed out).
    #[prop_or_default]
    pub notice: Option<AttrValue>,
}

/// Where the form stands.
#[derive(Clone, PartialEq)]
enum Attempt {
    Ready,
    Sending,
    /// The API's refusal (a wrong or revoked token, too many attempts).
    Refused(String),
}

#[component]
pub fn SignInForm(props: &SignInFormProps) -> Html {
    let session = use_context::<SessionContext>();
    let field = use_node_ref();
    let attempt = use_state(|| Attempt::Ready);
    let onsubmit = {
        let (field, attempt) = (field.clone(), attempt.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(input) = field.cast::<web_sys::HtmlInputElement>() else {
                return;
            };
            let token = input.value().trim().to_owned();
            input.set_value("");
            if token.is_empty() {
                attempt.set(Attempt::Refused("Paste an API token first.".to_owned()));
                return;
            }
            attempt.set(Attempt::Sending);
            let (attempt, session) = (attempt.clone(), session.clone());
            spawn_local(async move {
                match api::sign_in(token).await {
                    Ok(info) => {
                        if let Some(s) = session {
                            s.dispatch.emit(SessionAction::SignedIn(info));
                        }
                    }
                    Err(e) => attempt.set(Attempt::Refused(e.api_message().to_owned())),
                }
            });
        })
    };
    let sending = *attempt == Attempt::Sending;
    html! {
        <form id="sign-in" class="sign-in" {onsubmit} aria-describedby="sign-in-help">
            if let Some(notice) = &props.notice {
                <p id="sign-in-notice" class="notice" role="status">{ notice.clone() }</p>
            }
            <label for="token">{ "API token" }</label>
            <input id="token" name="token" type="password" ref={field} required=true autocomplete="off"
                spellcheck="false" placeholder="rak_…" disabled={sending} />
            <p id="sign-in-help" class="note">
                { "A token is printed once by " }<code>{ "backend token create --name NAME --role reader|admin" }</code>
                { ". The dashboard keeps no copy: the server answers with a session cookie, which ends when it expires or when you sign out." }
            </p>
            if let Attempt::Refused(why) = &*attempt {
                <p id="sign-in-error" class="form-error" role="alert">{ format!("Not signed in: {why}") }</p>
            }
            <button type="submit" class="primary" disabled={sending}>
                { if sending { "Signing in…" } else { "Sign in" } }
            </button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use yew::prelude::*;

    use super::SignInForm;
    use crate::components::ssr::render;

    #[tokio::test]
    async fn a_password_field_without_a_value_and_the_notice() {
        let html =
            render(|| html! { <SignInForm notice={AttrValue::from("the session expired: sign in again")} /> }).await;
        assert!(
            html.contains(r#"type="password""#) && html.contains(r#"autocomplete="off""#),
            "{html}"
        );
        assert!(
            html.contains(r#"class="notice">the session expired: sign in again</p>"#),
            "{html}"
        );
        // Nothing to show before an attempt; the field never holds a value in the markup.
        assert!(!html.contains("sign-in-error") && !html.contains("value="), "{html}");
        let html = render(|| html! { <SignInForm /> }).await;
        assert!(!html.contains("sign-in-notice"), "{html}");
    }
}
