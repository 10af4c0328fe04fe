
(function () {
  var map = %(map)s;
  var layers = %(layers)s;
  var cfg = %(cfg)s;
  var bs = window.blankspot = {map: map, layers: layers, towers: cfg.towers, found: null};
  // every word the controls show, in the map's language (HTML-escaped by the writer)
  var text = cfg.text;
  // open on the plan (the target desa and the chosen towers), at once rather than animated
  map.fitBounds(cfg.fit, {animate: false});

  // the title and legend live inside the map container, so they stay in fullscreen
  var title = document.getElementById('blankspot-title');
  if (title) {
    map.getContainer().appendChild(title);
    L.DomEvent.disableClickPropagation(title);
    L.DomEvent.disableScrollPropagation(title);
    // as wide as the space left of the layer control allows
    var fitTitle = function () {
      var lc = map.getContainer().querySelector('.leaflet-control-layers');
      var room = map.getSize().x - 56 - (lc ? lc.offsetWidth + 30 : 20);
      title.style.maxWidth = Math.max(200, Math.min(640, room)) + 'px';
    };
    map.on('resize', fitTitle);
    setTimeout(fitTitle, 0);
  }
  L.control.scale({imperial: false, position: 'bottomleft'}).addTo(map);
  var legend = document.getElementById('blankspot-legend');
  if (legend) {
    var Legend = L.Control.extend({
      options: {position: 'bottomleft'},
      onAdd: function () {
        L.DomEvent.disableClickPropagation(legend);
        L.DomEvent.disableScrollPropagation(legend);
        return legend;
      }
    });
    new Legend().addTo(map);
    var slider = document.getElementById('blankspot-opacity');
    var shown = document.getElementById('blankspot-opacity-value');
    if (slider) {
      slider.addEventListener('input', function () {
        var v = Number(slider.value) / 100;
        [layers.coverage, layers.bestServer].forEach(function (l) { if (l) { l.setOpacity(v); } });
        shown.textContent = slider.value + ' %%';
      });
    }
    var bsLegend = document.getElementById('blankspot-legend-best-server');
    if (bsLegend && layers.bestServer) {
      var syncLegend = function () {
        bsLegend.style.display = map.hasLayer(layers.bestServer) ? '' : 'none';
      };
      map.on('overlayadd overlayremove', syncLegend);
      syncLegend();
    }
  }

  // fullscreen (leaflet.fullscreen), in the zoom bar
  bs.fullscreen = new L.Control.FullScreen({
    position: 'topleft', title: text.fullscreen, titleCancel: text.fullscreen_exit
  }).addTo(map);

  // distance measure (Leaflet.PolylineMeasure): click to add points, double-click to finish
  bs.measure = L.control.polylineMeasure({
    position: 'topleft', unit: 'metres', showBearings: false, clearMeasurementsOnStop: false,
    showClearControl: true, measureControlTitleOn: text.measure,
    measureControlTitleOff: text.measure_stop, clearControlTitle: text.measure_clear,
    tooltipTextFinish: text.measure_finish + '<br>', tooltipTextDelete: text.measure_delete,
    tooltipTextMove: text.measure_move + '<br>', tooltipTextResume: '<br>' + text.measure_resume,
    tooltipTextAdd: text.measure_add
  }).addTo(map);

  // per target desa: served or not, why, and the link to its path profile (HTML escaped by
  // the writer, keyed by the escaped kode the desa layer carries)
  if (layers.desa && cfg.popups) {
    layers.desa.eachLayer(function (l) {
      var html = cfg.popups[l.feature.properties.village_id];
      if (html) { l.bindPopup(html, {maxWidth: 320}); }
    });
  }

  // search by desa name (leaflet-search) over the desa layer. Names reach the page
  // HTML-escaped; the search matches and shows them as plain text, never as markup.
  if (layers.desa) {
    var plain = function (s) {
      return new DOMParser().parseFromString(String(s), 'text/html').documentElement.textContent;
    };
    layers.desa.eachLayer(function (l) {
      var p = l.feature.properties;
      l.options.searchLabel = plain(p.name) + ' (' + plain(p.kecamatan) + ') ' + plain(p.village_id);
    });
    var highlighted = null;
    bs.search = new L.Control.Search({
      layer: layers.desa,
      propertyName: 'searchLabel',
      position: 'topleft',
      initial: false,
      autoType: false,
      collapsed: true,
      marker: false,
      tooltipLimit: 20,
      firstTipSubmit: true,
      textPlaceholder: text.search,
      textErr: text.search_none,
      textCancel: text.search_clear,
      filterData: function (text, records) {
        var q = text.toLowerCase(), out = {};
        var keys = Object.keys(records).filter(function (k) {
          return k.toLowerCase().indexOf(q) !== -1;
        });
        keys.sort(function (a, b) {
          var pa = a.toLowerCase().indexOf(q) !== 0, pb = b.toLowerCase().indexOf(q) !== 0;
          return (pa - pb) || a.localeCompare(b);
        });
        keys.forEach(function (k) { out[k] = records[k]; });
        return out;
      },
      buildTip: function (text) {
        var li = L.DomUtil.create('li');
        li.textContent = text;
        return li;
      },
      moveToLocation: function (latlng, title, m) {
        var l = latlng.layer;
        if (highlighted && highlighted !== l) { layers.desa.resetStyle(highlighted); }
        m.fitBounds(l.getBounds(), {maxZoom: 13, padding: [40, 40]});
        l.setStyle({weight: 4, color: '#000', opacity: 1});
        l.bringToFront();
        highlighted = l;
        bs.found = l.feature.properties.village_id;
        l.openTooltip(l.getBounds().getCenter());
      }
    }).addTo(map);
  }

  bs.ready = true;
})();
