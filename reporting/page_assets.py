"""The page's own stylesheet and script (reporting/html.py embeds them): static text, nothing from a run."""

CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1320px;padding:0 16px;color:#111}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;margin-top:28px}h3{font-size:15px}
nav{position:sticky;top:0;background:#fff;padding:6px 0;border-bottom:1px solid #ddd;z-index:5}
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse;font-size:12px;margin:8px 0}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;white-space:nowrap}th{background:#f0f0f0}
tbody tr:nth-child(even){background:#fafafa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:#a00;font-weight:bold}.partial{background:#fff3cd;border:2px dashed #a60;padding:6px}
.note{margin:2px 0}.finding{font-size:1.1em;margin:4px 0}.verdict{font-size:1.15em;font-weight:bold;margin:4px 0}
blockquote{margin:6px 0;padding:2px 10px;border-left:4px solid #999;background:#f6f6f6}
.fig{width:100%;min-height:200px}#filters{margin:8px 0;padding:6px;background:#f4f4f4}
#filters label{margin-right:10px}.hint{color:#555}img{max-width:100%}code{font-size:12px}"""

JS = """function applyFilter(){const want=[...document.querySelectorAll('#filters select')].filter(s=>s.value)
.map(s=>[s.name,s.value]);for(const t of document.querySelectorAll('table.data')){
const cols=[...t.tHead.rows[0].cells].map(c=>c.textContent.trim());for(const row of t.tBodies[0].rows){
const cells=[...row.cells].map(c=>c.textContent.trim()),text=cells.join(' '),m=text.match(/test_(\\w+)\\[([^\\]]+)\\]/),
ids=m?m[2].split('-'):[],pair=cells[cols.indexOf('jax/torch mode')]||'';row.hidden=want.some(([k,v])=>{
const i=cols.indexOf(k);if(i>=0)return cells[i]!==v;if(k==='workload')return m?m[1]!==v:false;
if(pair)return k==='framework'?!['jax','torch'].includes(v):k==='mode'?!pair.split('/').includes(v):false;
return m?!ids.includes(v):false;});}}}
document.getElementById('filters')?.addEventListener('change',applyFilter);
async function boot(){const b64=document.getElementById('plotly-gz').textContent.trim();
const bytes=Uint8Array.from(atob(b64),c=>c.charCodeAt(0));const js=await new Response(new Blob([bytes]).stream()
.pipeThrough(new DecompressionStream('gzip'))).text();(0,eval)(js);
const figs=JSON.parse(document.getElementById('figures').textContent);for(const [k,f] of Object.entries(figs)){
const div=document.getElementById('fig-'+k);div.textContent='';
await Plotly.newPlot(div,f.data,f.layout,{responsive:true,displaylogo:false});}
document.body.dataset.plotted=Object.keys(figs).length;}
boot().catch(e=>{console.error('plots failed: '+e);document.getElementById('status').textContent='Plots failed: '+e;});"""
