//! Entry point of the WebAssembly dashboard.

fn main() {
    yew::Renderer::<frontend::app::App>::new().render();
}
