'use strict';
// The shell passes the status line in the query string; textContent keeps it inert.
const message = new URLSearchParams(window.location.search).get('message');
if (message) document.getElementById('message').textContent = message;
