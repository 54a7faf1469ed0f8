//! Who is signed in, in the header: name and role with a sign-out button, or,
//! in open mode, a discreet note that everyone has full rights.

use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api;
use crate::format::timestamp;
use crate::session::{SessionAction, SessionContext, User, Via};

/// The note shown instead of a sign-out in open mode.
pub const OPEN_MODE: &str = "open mode: no tokens exist, everyone has full rights";

#[derive(Properties, PartialEq)]
pub struct UserMenuProps {
    pub user: std::rc::Rc<User>,
}

#[component]
pub fn UserMenu(props: &UserMenuProps) -> Html {
    let session = use_context::<SessionContext>();
    let failed = use_state(|| None::<String>);
    let user = &props.user;
    if user.open_mode() {
        return html! { <p id="open-mode" class="open-mode">{ OPEN_MODE }</p> };
    }
    let onclick = {
        let failed = failed.clone();
        Callback::from(move |_: MouseEvent| {
            let (failed, session) = (failed.clone(), session.clone());
            spawn_local(async move {
                match api::sign_out().await {
                    Ok(()) => {
                        if let Some(s) = session {
                            s.dispatch.emit(SessionAction::SignedOut);
                        }
                    }
                    // Already signed out (the session ended meanwhile): so be it.
                    Err(e) if e.is_unauthorized() => {
                        if let Some(s) = session {
                            s.dispatch.emit(SessionAction::SignedOut);
                        }
                    }
                    Err(e) => failed.set(Some(format!("Could not sign out: {}", e.message))),
                }
            });
        })
    };
    let until = user
        .expires_at
        .as_ref()
        .map(|t| format!("Signed in until {}", timestamp(t)));
    html! {
        <div id="user" class="user">
            <span class="user-name" title={until}>{ user.name.clone() }</span>
            <span class="badge neutral" id="user-role">{ user.role.as_str() }</span>
            // A bearer token (sent by a proxy, not by the dashboard) has no session to end.
            if user.via == Via::Session {
                <button id="sign-out" class="link" {onclick}>{ "Sign out" }</button>
            }
            if let Some(why) = &*failed {
                <span class="form-error" role="alert">{ why.clone() }</span>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use yew::prelude::*;

    use super::{UserMenu, OPEN_MODE};
    use crate::components::ssr::render;
    use crate::session::{Role, User, Via};

    fn user(role: Role, via: Via) -> Rc<User> {
        Rc::new(User {
            name: "alice".into(),
            role,
            via,
            expires_at: (via == Via::Session).then(|| "2026-11-30T05:00:00Z".parse().unwrap()),
        })
    }

    #[tokio::test]
    async fn name_role_and_sign_out_or_the_open_mode_note() {
        let html = render(|| html! { <UserMenu user={user(Role::Reader, Via::Session)} /> }).await;
        assert!(
            html.contains(">alice</span>") && html.contains(">reader</span>"),
            "{html}"
        );
        assert!(
            html.contains(r#"title="Signed in until 30 Nov 2026 05:00 UTC""#),
            "{html}"
        );
        assert!(
            html.contains(">Sign out</button>") && !html.contains(OPEN_MODE),
            "{html}"
        );

        let html = render(|| html! { <UserMenu user={user(Role::Admin, Via::Anonymous)} /> }).await;
        assert!(html.contains(OPEN_MODE) && !html.contains("Sign out"), "{html}");

        let html = render(|| html! { <UserMenu user={user(Role::Admin, Via::Token)} /> }).await;
        assert!(html.contains(">admin</span>") && !html.contains("Sign out"), "{html}");
    }
}
