// @mention autocomplete for comment boxes: textarea[data-mentions] names a URL that answers
// ?q=prefix with {"people": [{"username", "name"}]} (only colleagues who may see the record).
// Plain DOM, no inline script (the Content-Security-Policy forbids it), keyboard operable.
(function () {
  "use strict";
  var list = null, box = null, items = [], active = -1, timer = null;

  function close() {
    if (list) { list.remove(); }
    list = null; items = []; active = -1;
    if (box) { box.removeAttribute("aria-activedescendant"); box.setAttribute("aria-expanded", "false"); }
  }

  function query(textarea) {
    var before = textarea.value.slice(0, textarea.selectionStart);
    var match = /(^|[\s(])@([\w.+-]{0,50})$/.exec(before);
    return match ? match[2] : null;
  }

  function choose(index) {
    if (!box || index < 0 || index >= items.length) { return; }
    var start = box.selectionStart, before = box.value.slice(0, start), after = box.value.slice(start);
    var at = before.lastIndexOf("@");
    box.value = before.slice(0, at) + "@" + items[index].username + " " + after;
    var caret = at + items[index].username.length + 2;
    box.setSelectionRange(caret, caret);
    close();
    box.focus();
  }

  function highlight(index) {
    if (!list) { return; }
    active = index;
    Array.prototype.forEach.call(list.children, function (li, i) {
      li.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0) { box.setAttribute("aria-activedescendant", list.children[index].id); }
  }

  function show(textarea, people) {
    close();
    if (!people.length) { return; }
    box = textarea; items = people;
    list = document.createElement("ul");
    list.className = "mention-list";
    list.setAttribute("role", "listbox");
    list.id = textarea.id + "-mentions";
    people.forEach(function (person, i) {
      var li = document.createElement("li");
      li.id = list.id + "-" + i;
      li.setAttribute("role", "option");
      li.textContent = person.name + " (@" + person.username + ")";
      li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(i); });
      list.appendChild(li);
    });
    textarea.setAttribute("aria-controls", list.id);
    textarea.setAttribute("aria-expanded", "true");
    textarea.parentNode.appendChild(list);
    highlight(0);
  }

  document.addEventListener("input", function (event) {
    var textarea = event.target;
    if (!(textarea instanceof HTMLTextAreaElement) || !textarea.dataset.mentions) { return; }
    var prefix = query(textarea);
    clearTimeout(timer);
    if (prefix === null) { close(); return; }
    timer = setTimeout(function () {
      fetch(textarea.dataset.mentions + "?q=" + encodeURIComponent(prefix), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { people: [] }; })
        .then(function (data) { if (query(textarea) === prefix) { show(textarea, data.people || []); } });
    }, 120);
  });

  document.addEventListener("keydown", function (event) {
    if (!list || event.target !== box) { return; }
    if (event.key === "ArrowDown") { event.preventDefault(); highlight((active + 1) % items.length); }
    else if (event.key === "ArrowUp") { event.preventDefault(); highlight((active - 1 + items.length) % items.length); }
    else if (event.key === "Enter" || event.key === "Tab") { event.preventDefault(); choose(active); }
    else if (event.key === "Escape") { close(); }
  });

  document.addEventListener("focusout", function (event) { if (event.target === box) { setTimeout(close, 150); } });
})();
