/// The report page's fixed parts: its style sheet and its one script (hover details and highlighting only). Both are
/// inline and constant: nothing from the journal is ever written into them, so no journal text can become code.
enum ReportAssets {
    /// The Content-Security-Policy the page declares: no network at all, inline styles, and only the script below
    /// (by its hash). Change the script and its hash goes with it: `scripts/report-script-hash` prints the new one,
    /// and the browser test fails (the script is refused) until it is updated.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; script-src '\(Self.scriptHash)'; img-src data:; base-uri 'none'; form-action 'none'"

    /// `sha256-` and the base64 SHA-256 of `script`.
    static let scriptHash = "sha256-BAF39kF57YwnH2VuYiy0gY+z5fs5U4KgRQLHi7Y9aCQ="

    static let style = """
        :root{--bg:#fff;--fg:#1f2328;--muted:#59636e;--grid:#d1d9e0;--alt:#f6f8fa;--band:rgba(191,135,0,.17);\
        --band-edge:#bf8700;--early:#cf222e;--ok:#1a7f37;--fail:#cf222e;--hl:#fff8c5;\
        --completed:#009e73;--dropped:#e69f00;--reset:#d55e00;--client-closed:#cc79a7;--timeout:#0072b2;\
        color-scheme:light dark}
        @media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--grid:#3d444d;\
        --alt:#151b23;--band:rgba(210,153,34,.2);--band-edge:#d29922;--early:#ff7b72;--ok:#3fb950;--fail:#f85149;\
        --hl:#3b2e00;--completed:#2fbf8f;--dropped:#f0b429;--reset:#ff8247;--client-closed:#e38bc0;--timeout:#4fa8e8}}
        @media print{:root{--bg:#fff;--fg:#000;--muted:#444;--grid:#bbb;--alt:#f3f3f3;--band:rgba(191,135,0,.2);\
        --band-edge:#9a6700;--early:#c00;--ok:#116329;--fail:#c00;--hl:#fff8c5;--completed:#009e73;--dropped:#e69f00;\
        --reset:#d55e00;--client-closed:#cc79a7;--timeout:#0072b2}
        #tip,.pager,.hint{display:none!important}body{margin:0;padding:0;max-width:none}\
        *{print-color-adjust:exact;-webkit-print-color-adjust:exact}.plot{overflow:visible}svg.timeline{min-width:0}\
        table{font-size:9.5px}th,td{white-space:normal;padding:2px 4px}th{position:static}}
        *{box-sizing:border-box}
        body{margin:0 auto;padding:16px 24px 40px;max-width:1260px;background:var(--bg);color:var(--fg);\
        font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans","Liberation Sans",sans-serif}
        h1{font-size:20px;margin:0 0 2px}h2{font-size:16px;margin:22px 0 8px}
        a{color:inherit}code{font:12.5px ui-monospace,"DejaVu Sans Mono",monospace}
        .meta,.hint{color:var(--muted);font-size:12.5px;margin:2px 0}
        .banner{margin:12px 0 0;padding:10px 14px;border-radius:6px;font-weight:600;font-size:16px;color:#fff}
        .banner.fail{background:var(--fail)}.banner.ok{background:var(--ok)}.banner.none{background:var(--muted)}
        .checks{list-style:none;margin:8px 0 0;padding:0}
        .check{padding:7px 10px;border-left:4px solid var(--ok);margin:0 0 6px;background:var(--alt);border-radius:0 6px 6px 0}
        .check.fail{border-left-color:var(--fail)}
        .badge{display:inline-block;min-width:3.3em;text-align:center;font-weight:700;font-size:12px;padding:1px 6px;\
        border-radius:4px;color:#fff;background:var(--ok);margin-right:6px}
        .fail .badge{background:var(--fail)}
        .check .why{font-weight:600}.check .more{color:var(--muted);font-size:12.5px;margin-top:2px}
        .reqs a{margin-right:8px;white-space:nowrap}
        .warn{border:1px solid var(--fail);color:var(--fail);padding:6px 10px;border-radius:6px;margin:10px 0}
        .legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12.5px;margin:4px 0 8px;color:var(--fg)}
        .legend span{white-space:nowrap}
        .sw{display:inline-block;width:18px;height:11px;vertical-align:-1px;margin-right:5px;border-radius:2px}
        .sw.light{opacity:.45}.sw.band{background:var(--band);border-left:2px solid var(--band-edge)}
        .sw.early{border:2px solid var(--early);background:var(--dropped)}
        .sw.bin{background:linear-gradient(var(--completed) 55%,var(--reset) 55%);width:7px}
        .o-completed{fill:var(--completed);background:var(--completed)}.o-dropped{fill:var(--dropped);background:var(--dropped)}
        .o-reset{fill:var(--reset);background:var(--reset)}.o-client-closed{fill:var(--client-closed);background:var(--client-closed)}
        .o-timeout{fill:var(--timeout);background:var(--timeout)}
        .plot{overflow-x:auto}
        svg.timeline{display:block;width:100%;height:auto;min-width:760px;font-family:inherit}
        svg text{fill:var(--fg);font-size:10px}
        .lane-bg{fill:var(--alt)}.lane-name{font-size:12px;font-weight:600}.lane-count,.tick,.gap text{fill:var(--muted)}
        .tick{font-size:10px}.gap text{font-size:9px}
        .grid{stroke:var(--grid);stroke-width:1}.axis{stroke:var(--muted);stroke-width:1}
        .gap line{stroke:var(--muted);stroke-width:1}
        .band rect{fill:var(--band)}.band line{stroke:var(--band-edge);stroke-width:1.5}
        .band text{fill:var(--band-edge);font-size:9px;font-weight:600}
        .m{cursor:pointer}.m .w{opacity:.45}
        .m.early>rect:last-of-type{stroke:var(--early);stroke-width:2}
        .m.early text{fill:var(--early);font-weight:700}
        .m.bin.early{outline:none}.m.bin.early rect{stroke:var(--early);stroke-width:1}
        .m:hover rect,.m.hl rect{stroke:var(--fg);stroke-width:2}
        table{border-collapse:collapse;width:100%;font-size:12.5px}
        th,td{text-align:left;padding:3px 8px;border-bottom:1px solid var(--grid);white-space:nowrap}
        th{position:sticky;top:0;background:var(--bg);font-weight:600}
        .journal :is(td,th):is(:nth-child(-n+2),:nth-child(6),:nth-child(9),:nth-child(10),:nth-child(11)){\
        text-align:right;font-variant-numeric:tabular-nums}
        .journal td:nth-child(4){max-width:360px;overflow:hidden;text-overflow:ellipsis}
        td[class^="o-"]{background:none}td[class^="o-"]::before{content:"";display:inline-block;width:9px;height:9px;\
        border-radius:50%;margin-right:5px;background:inherit}
        td.o-completed::before{background:var(--completed)}td.o-dropped::before{background:var(--dropped)}
        td.o-reset::before{background:var(--reset)}td.o-client-closed::before{background:var(--client-closed)}
        td.o-timeout::before{background:var(--timeout)}
        tr.early td:nth-child(13){color:var(--early);font-weight:600}
        tr:target{background:var(--hl);outline:2px solid var(--early)}
        table.paged>tbody{display:none}
        table.paged>tbody:target,table.paged>tbody:has(tr:target){display:table-row-group}
        table.paged:not(:has(>tbody:target,tr:target))>tbody:first-of-type{display:table-row-group}
        .pager{display:flex;flex-wrap:wrap;gap:4px 10px;font-size:12.5px;margin:6px 0}
        #tip{position:fixed;z-index:9;pointer-events:none;white-space:pre;background:var(--bg);color:var(--fg);\
        border:1px solid var(--grid);border-radius:6px;padding:6px 9px;font-size:12px;box-shadow:0 3px 12px rgba(0,0,0,.25)}
        """

    /// Hover details for marks (read from the journal table's rows), and highlighting of an expectation's requests.
    static let script = """
        (function(){var tip=document.getElementById("tip");\
        var heads=Array.prototype.map.call(document.querySelectorAll("#journal thead th"),function(h){return h.textContent});\
        var outcome=heads.indexOf("outcome");\
        function row(id){return document.getElementById("e"+id)}\
        function describe(ids){if(ids.length===1){var r=row(ids[0]);if(!r)return "#"+ids[0];var lines=[];\
        for(var i=0;i<r.cells.length;i++){var v=r.cells[i].textContent;if(v)lines.push(heads[i]+": "+v)}return lines.join("\\n")}\
        var tally={};ids.forEach(function(id){var r=row(id);var o=r?r.cells[outcome].textContent:"?";tally[o]=(tally[o]||0)+1});\
        return ids.length+" requests, #"+ids[0]+" to #"+ids[ids.length-1]+"\\n"+Object.keys(tally).map(function(k){return tally[k]+" "+k}).join(", ")}\
        function place(ev){var x=Math.min(ev.clientX+14,window.innerWidth-tip.offsetWidth-8);\
        var y=ev.clientY+18+tip.offsetHeight>window.innerHeight?ev.clientY-tip.offsetHeight-10:ev.clientY+18;\
        tip.style.left=Math.max(4,x)+"px";tip.style.top=Math.max(4,y)+"px"}\
        var lit=[];function light(ids){lit.forEach(function(e){e.classList.remove("hl")});lit=[];\
        ids.forEach(function(id){if(!/^[0-9]+$/.test(id))return;\
        document.querySelectorAll("svg [data-id~=\\""+id+"\\"]").forEach(function(e){e.classList.add("hl");lit.push(e)})})}\
        document.addEventListener("mouseover",function(ev){var t=ev.target;if(!(t instanceof Element))return;\
        var m=t.closest("svg [data-id]");if(m){tip.textContent=describe(m.getAttribute("data-id").split(" "));\
        tip.hidden=false;place(ev);return}tip.hidden=true;var a=t.closest("[data-ref]");\
        light(a?a.getAttribute("data-ref").split(" "):[])});\
        document.addEventListener("mousemove",function(ev){if(!tip.hidden)place(ev)})})();
        """
}
