// Keyboard-first review: 1-9 pick a class, Enter confirms, E edits the text,
// Esc leaves the editor, Ctrl+Enter confirms from inside it, S skips, U marks
// the meme unusable, Backspace undoes the last decision. The server answers a decision
// with the next meme.
(function () {
  "use strict";

  const form = document.getElementById("decision-form");
  if (!form) {
    return;
  }
  const radios = Array.from(form.querySelectorAll('input[name="label"]'));
  const editor = document.getElementById("text-editor");
  const shownText = document.getElementById("current-text");
  const textarea = form.querySelector('textarea[name="text"]');
  const edited = form.querySelector('input[name="text_edited"]');
  const hint = document.getElementById("keyboard-hint");
  let submitting = false;

  function say(message) {
    if (hint) {
      hint.textContent = message;
    }
  }

  function pick(index) {
    const radio = radios[index];
    if (radio) {
      radio.checked = true;
      say("Picked " + radio.value + ". Enter confirms.");
    }
  }

  function submit(action) {
    if (submitting) {
      return;
    }
    if (action === "confirm" && !radios.some((r) => r.checked)) {
      say("Pick a class with its number key first.");
      return;
    }
    submitting = true;
    form.requestSubmit(form.querySelector('button[value="' + action + '"]'));
  }

  function openEditor() {
    editor.hidden = false;
    if (shownText) {
      shownText.hidden = true;
    }
    edited.value = "on";
    textarea.focus();
    textarea.setSelectionRange(textarea.value.length, textarea.value.length);
    say("Editing the text: Esc to leave the editor, Ctrl+Enter to confirm.");
  }

  // A page re-shown with the editor in use (a stale decision) keeps it open.
  if (edited.value) {
    editor.hidden = false;
    if (shownText) {
      shownText.hidden = true;
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.target === textarea) {
      if (event.key === "Escape") {
        event.preventDefault();
        textarea.blur();
        say("Text kept. Enter confirms.");
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        submit("confirm");
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    const target = event.target;
    if (target.tagName === "INPUT" && target.type !== "radio" || target.tagName === "SELECT") {
      return;
    }
    const key = event.key.toLowerCase();
    if (/^[1-9]$/.test(key)) {
      event.preventDefault();
      pick(Number(key) - 1);
    } else if (key === "enter") {
      event.preventDefault();
      submit("confirm");
    } else if (key === "e") {
      event.preventDefault();
      openEditor();
    } else if (key === "s") {
      event.preventDefault();
      submit("skip");
    } else if (key === "u") {
      event.preventDefault();
      submit("unusable");
    } else if (key === "backspace") {
      const undo = document.getElementById("undo-form");
      if (undo && !submitting) {
        event.preventDefault();
        submitting = true;
        undo.requestSubmit();
      }
    }
  });
})();
