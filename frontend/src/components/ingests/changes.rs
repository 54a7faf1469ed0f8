//! What a run changed (or would have): the loaded data's totals before → after.

use api_types::DataTotals;
use yew::prelude::*;

use crate::format::{count, money, month_range, signed_count, signed_money};
use crate::ingests::revenue_changes;

pub fn changes(b: &DataTotals, a: &DataTotals) -> Html {
    let counts = [
        ("Transactions", b.transactions, a.transactions),
        ("Customers", b.customers, a.customers),
        ("Products", b.products, a.products),
    ];
    let months = |t: &DataTotals| month_range(t.first_month, t.latest_month);
    html! {
        <div class="table-wrap"><table class="changes stack">
            <thead><tr><th scope="col"><span class="visually-hidden">{"Total"}</span></th><th scope="col" class="num">{"Before"}</th><th scope="col" class="num">{"After"}</th><th scope="col" class="num">{"Change"}</th></tr></thead>
            <tbody>
                { for counts.iter().map(|(what, before, after)| html! {
                    <tr><th scope="row">{ *what }</th><td data-label="Before" class="num">{ count(*before) }</td>
                        <td data-label="After" class="num">{ count(*after) }</td>
                        <td data-label="Change" class="num">{ signed_count(after - before) }</td></tr>
                }) }
                { for revenue_changes(b, a).iter().map(|c| html! {
                    <tr data-currency={c.currency.to_string()}><th scope="row">{ format!("Revenue ({})", c.currency.as_str().to_uppercase()) }</th>
                        <td data-label="Before" class="num">{ c.before.map_or("–".to_owned(), |m| money(m, c.currency)) }</td>
                        <td data-label="After" class="num">{ c.after.map_or("–".to_owned(), |m| money(m, c.currency)) }</td>
                        <td data-label="Change" class="num">{ c.delta().map_or_else(|| "–".to_owned(), |d| signed_money(d, c.currency)) }</td></tr>
                }) }
                <tr><th scope="row">{ "Months" }</th><td data-label="Before" class="num">{ months(b) }</td>
                    <td data-label="After" class="num">{ months(a) }</td><td></td></tr>
            </tbody>
        </table></div>
    }
}
