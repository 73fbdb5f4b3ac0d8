/* Reassessment desk portal: small progressive enhancements. Every form works without this file. */
(function () {
  "use strict";

  // 1. The sample message is shown (and required on the server) only when SMS is chosen.
  function setupSmsToggle() {
    var sms = document.querySelector('input[name="services"][value="sms"]');
    var block = document.querySelector("[data-sms-only]");
    if (!sms || !block) return;
    var hasError = block.querySelector(".errorlist");
    function sync() { block.hidden = !sms.checked && !hasError; }
    document.querySelectorAll('input[name="services"]').forEach(function (box) {
      box.addEventListener("change", function () { hasError = null; sync(); });
    });
    sync();
  }

  // 2. A searchable multi-select of countries over the plain <select multiple>, which stays the
  //    source of truth (and is what the form posts).
  function setupCountryPicker() {
    document.querySelectorAll("[data-country-picker] select[multiple]").forEach(function (select) {
      var field = select.closest(".field");
      var label = field.querySelector("label");
      var wrap = document.createElement("div");
      wrap.className = "country-picker";
      var chips = document.createElement("ul");
      chips.className = "chips";
      chips.setAttribute("aria-label", "Chosen countries");
      var input = document.createElement("input");
      input.type = "text";
      input.id = select.id + "_search";
      input.setAttribute("role", "combobox");
      input.setAttribute("aria-autocomplete", "list");
      input.setAttribute("aria-expanded", "false");
      input.setAttribute("autocomplete", "off");
      input.placeholder = "Type a country name, then press Enter";
      var listId = select.id + "_options";
      input.setAttribute("aria-controls", listId);
      var describedBy = [select.id + "_helptext", select.id + "_error"].filter(function (id) { return document.getElementById(id); });
      if (describedBy.length) input.setAttribute("aria-describedby", describedBy.join(" "));
      var list = document.createElement("ul");
      list.id = listId;
      list.className = "options";
      list.setAttribute("role", "listbox");
      list.setAttribute("aria-multiselectable", "true");
      list.hidden = true;
      var live = document.createElement("div");
      live.className = "visually-hidden";
      live.setAttribute("aria-live", "polite");
      wrap.appendChild(chips);
      wrap.appendChild(input);
      wrap.appendChild(list);
      wrap.appendChild(live);
      select.hidden = true;
      select.parentNode.insertBefore(wrap, select.nextSibling);
      if (label) label.htmlFor = input.id;
      var active = -1;
      var shown = [];

      function renderChips() {
        chips.innerHTML = "";
        Array.prototype.forEach.call(select.options, function (opt) {
          if (!opt.selected) return;
          var li = document.createElement("li");
          li.className = "chip";
          li.appendChild(document.createTextNode(opt.text));
          var remove = document.createElement("button");
          remove.type = "button";
          remove.textContent = "×";
          remove.setAttribute("aria-label", "Remove " + opt.text);
          remove.addEventListener("click", function () { toggle(opt); input.focus(); });
          li.appendChild(remove);
          chips.appendChild(li);
        });
      }
      function toggle(opt) {
        opt.selected = !opt.selected;
        live.textContent = opt.text + (opt.selected ? " added" : " removed");
        renderChips();
        renderList();
      }
      function renderList() {
        var q = input.value.trim().toLowerCase();
        list.innerHTML = "";
        shown = [];
        if (!q) { list.hidden = true; input.setAttribute("aria-expanded", "false"); return; }
        Array.prototype.forEach.call(select.options, function (opt) {
          if (opt.text.toLowerCase().indexOf(q) === -1 && opt.value.toLowerCase() !== q) return;
          var li = document.createElement("li");
          li.id = listId + "_" + opt.value;
          li.setAttribute("role", "option");
          li.setAttribute("aria-selected", opt.selected ? "true" : "false");
          li.textContent = (opt.selected ? "✓ " : "") + opt.text;
          li.addEventListener("mousedown", function (e) { e.preventDefault(); toggle(opt); });
          list.appendChild(li);
          shown.push({ li: li, opt: opt });
        });
        if (active >= shown.length) active = shown.length - 1;
        if (active < 0 && shown.length) active = 0;
        shown.forEach(function (s, i) { s.li.classList.toggle("active", i === active); });
        if (shown[active]) input.setAttribute("aria-activedescendant", shown[active].li.id);
        else input.removeAttribute("aria-activedescendant");
        list.hidden = shown.length === 0;
        input.setAttribute("aria-expanded", shown.length ? "true" : "false");
        live.textContent = shown.length + " matching countries";
      }
      input.addEventListener("input", function () { active = 0; renderList(); });
      input.addEventListener("keydown", function (e) {
        if (e.key === "ArrowDown" || e.key === "ArrowUp") {
          e.preventDefault();
          if (!shown.length) return;
          active = (active + (e.key === "ArrowDown" ? 1 : -1) + shown.length) % shown.length;
          renderList();
          if (shown[active]) shown[active].li.scrollIntoView({ block: "nearest" });
        } else if (e.key === "Enter") {
          e.preventDefault();  // never submit the whole form from the search box
          if (shown[active]) { toggle(shown[active].opt); input.value = ""; renderList(); }
        } else if (e.key === "Escape") {
          input.value = ""; renderList();
        } else if (e.key === "Backspace" && !input.value) {
          var chosen = Array.prototype.filter.call(select.options, function (o) { return o.selected; });
          if (chosen.length) toggle(chosen[chosen.length - 1]);
        }
      });
      input.addEventListener("blur", function () { setTimeout(function () { list.hidden = true; input.setAttribute("aria-expanded", "false"); }, 150); });
      renderChips();
    });
  }

  // 3. Evidence uploads with a progress bar (XHR); without JS the form posts normally.
  function setupUploads() {
    document.querySelectorAll("form[data-upload]").forEach(function (form) {
      var bar = form.querySelector("progress");
      var barBox = form.querySelector(".upload-progress");
      var status = form.querySelector(".upload-status");
      var button = form.querySelector('button[type="submit"]');
      form.addEventListener("submit", function (e) {
        if (!window.FormData || !window.XMLHttpRequest) return;
        e.preventDefault();
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action);
        xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
        xhr.setRequestHeader("Accept", "application/json");
        barBox.hidden = false;
        bar.value = 0;
        button.disabled = true;
        status.textContent = "Uploading…";
        xhr.upload.addEventListener("progress", function (ev) {
          if (ev.lengthComputable) {
            var pct = Math.round((ev.loaded / ev.total) * 100);
            bar.value = pct;
            bar.textContent = pct + "%";
          }
        });
        xhr.addEventListener("load", function () {
          button.disabled = false;
          var data = { added: [], errors: [] };
          try { data = JSON.parse(xhr.responseText); } catch (err) { data.errors = ["The upload failed (" + xhr.status + "). Please try again."]; }
          var parts = [];
          if (data.added && data.added.length) parts.push("Added: " + data.added.join(", ") + ".");
          if (data.errors && data.errors.length) parts.push(data.errors.join(" "));
          status.textContent = parts.join(" ");
          status.className = "upload-status " + (data.errors && data.errors.length ? "error-summary-inline" : "");
          bar.value = 100;
          if (data.added && data.added.length && !(data.errors && data.errors.length)) {
            // Show the new items in the list (the server renders it).
            window.location.reload();
          }
        });
        xhr.addEventListener("error", function () {
          button.disabled = false;
          status.textContent = "The upload failed: check your connection and try again.";
          status.className = "upload-status error-summary-inline";
        });
        xhr.send(new FormData(form));
      });
    });
  }

  // 4. The account switcher changes account as soon as one is chosen (the button stays for no-JS).
  function setupAutosubmit() {
    document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  // 5. After a failed submit, move focus to the error summary so it is announced and visible.
  function focusErrors() {
    var summary = document.querySelector("#form-errors.error-summary, .error-summary[tabindex]");
    if (summary) summary.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupSmsToggle();
    setupCountryPicker();
    setupUploads();
    setupAutosubmit();
    focusErrors();
  });
})();
