// Province search (any spelling, with or without diacritics), report cards opened from the year list,
// click-to-enlarge figures; no network use.
(function () {
  function norm(s) {
    s = (s || "").normalize("NFC").toLowerCase().replace(/đ/g, "d").normalize("NFD").replace(/[\u0300-\u036f]/g, "");
    s = s.replace(/[._\-–,()/]+/g, " ").replace(/\s+/g, " ").trim();
    s = s.replace(/^(thanh pho|tinh|tp\.?|t\.p\.?)\s+/, "").replace(/\s+(city|province)$/, "");
    return s.replace(/[^a-z0-9]/g, "");
  }
  var data = document.getElementById("province-index");
  var input = document.getElementById("search");
  if (data && input) {
    var provinces = JSON.parse(data.textContent);
    var results = document.getElementById("results");
    var lang = input.getAttribute("data-lang") === "en" ? "en" : "vi";
    input.addEventListener("input", function () {
      var q = norm(input.value);
      results.innerHTML = "";
      if (!q) return;
      provinces.filter(function (p) {
        return p.keys.some(function (k) { return k.indexOf(q) === 0; }) || p.keys.some(function (k) { return k.indexOf(q) >= 0; });
      }).slice(0, 10).forEach(function (p) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.className = "hit";
        a.href = "provinces/" + p.code + "-" + lang + ".html";
        a.textContent = p.name;
        li.appendChild(a);
        results.appendChild(li);
      });
    });
  }
  // a link to a report card (#card-PAPI-2020) opens its section, also where the browser does not do it itself
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.open = true; el.scrollIntoView(); }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a.zoom, .output_png img, .jp-RenderedImage img");
    if (!a) return;
    var src = a.tagName === "IMG" ? a.src : a.href;
    e.preventDefault();
    var box = document.createElement("div");
    box.id = "lightbox";
    box.setAttribute("role", "dialog");
    box.innerHTML = '<img alt="enlarged figure" src="' + src + '">';
    box.addEventListener("click", function () { box.remove(); });
    document.body.appendChild(box);
  });
})();
