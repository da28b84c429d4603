// QuickBite single-page app: history routing, login, orders list, live socket.
(function () {
  "use strict";
  var app = document.getElementById("app");
  var token = sessionStorage.getItem("qb-token");

  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]; }); }

  function login() {
    app.innerHTML = '<h1>Sign in</h1><form id="f"><input name="email" value="demo@quickbite.local">' +
      ' <input name="password" type="password" placeholder="password"> <button>Sign in</button></form><p id="msg"></p>';
    document.getElementById("f").onsubmit = function (e) {
      e.preventDefault();
      fetch("/api/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email: e.target.email.value, password: e.target.password.value }) })
        .then(function (r) { if (!r.ok) throw new Error("Login failed (" + r.status + ")"); return r.json(); })
        .then(function (b) { token = b.token; sessionStorage.setItem("qb-token", token); go("/orders"); })
        .catch(function (err) { document.getElementById("msg").innerHTML = '<span class="error">' + esc(err.message) + "</span>"; });
    };
  }

  function orders() {
    if (!token) return login();
    app.textContent = "Loading orders\u2026";
    fetch("/api/orders", { headers: { Authorization: "Bearer " + token } })
      .then(function (r) { if (r.status === 401) { token = null; sessionStorage.removeItem("qb-token"); throw new Error("Session expired"); } return r.json(); })
      .then(function (rows) {
        app.innerHTML = "<h1>Orders</h1><table><tr><th>#</th><th>Restaurant</th><th>Status</th><th>Total</th></tr>" +
          rows.map(function (o) { return "<tr><td>" + esc(o.id) + "</td><td>" + esc(o.restaurant) + "</td><td>" +
            esc(o.status) + "</td><td>" + esc(o.total_amount) + " " + esc(o.currency) + "</td></tr>"; }).join("") + "</table>";
      })
      .catch(function (err) { app.innerHTML = '<p class="error">' + esc(err.message) + "</p>"; });
  }

  function live() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + "/ws");
    app.innerHTML = "<h1>Live</h1><p id='ws'>connecting\u2026</p>";
    ws.onopen = function () { ws.send("hello from QuickBite"); };
    ws.onmessage = function (m) { document.getElementById("ws").textContent = "echo: " + m.data; };
    ws.onerror = function () { document.getElementById("ws").textContent = "socket error"; };
  }

  function home() { app.innerHTML = "<h1>Hungry?</h1><p>Track your orders in real time.</p>"; }

  var routes = { "/": home, "/orders": orders, "/login": login, "/live": live };
  function render() { (routes[location.pathname] || home)(); }
  function go(path) { history.pushState(null, "", path); render(); }

  document.addEventListener("click", function (e) {
    var a = e.target.closest("a[data-link]");
    if (a) { e.preventDefault(); go(a.getAttribute("href")); }
  });
  window.addEventListener("popstate", render);
  render();
})();
