/*
 * Council workspace: a live Markdown preview under each textarea marked
 * data-markdown-preview. Only an enhancement: every form has a Preview button
 * that does the same without JavaScript. The server sanitises the HTML it returns.
 */
(function () {
  "use strict";

  function preview(textarea, target) {
    var form = textarea.form;
    var token = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (!token) return;
    var body = new URLSearchParams();
    body.append("text", textarea.value);
    fetch(textarea.getAttribute("data-markdown-preview"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token.value },
      body: body
    }).then(function (response) {
      return response.ok ? response.text() : "";
    }).then(function (html) {
      target.innerHTML = html;
    }).catch(function () { /* The Preview button still works. */ });
  }

  document.querySelectorAll("textarea[data-markdown-preview]").forEach(function (textarea) {
    var target = document.createElement("div");
    target.className = "markdown-preview";
    target.setAttribute("aria-live", "polite");
    textarea.insertAdjacentElement("afterend", target);
    var timer = null;
    textarea.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { preview(textarea, target); }, 600);
    });
  });
})();
