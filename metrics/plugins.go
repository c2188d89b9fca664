package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warden-rpc/warden/host"
)

// PluginSource is what the plugin collector reads at each scrape; *host.Host
// is one.
type PluginSource interface {
	Plugins() []*host.Plugin
	Generation() uint64
}

var (
	pluginInfoDesc = prometheus.NewDesc(namespace+"_plugin_info",
		"A serving plugin: its version (the hash of its .wasm) and the generation of the serving set.",
		[]string{"plugin", "version", "generation"}, nil)
	pluginInstancesDesc = prometheus.NewDesc(namespace+"_plugin_instances",
		"Live instances of a serving plugin.", []string{"plugin"}, nil)
	pluginBreakerDesc = prometheus.NewDesc(namespace+"_plugin_breaker_open",
		"1 while a plugin's circuit breaker refuses its calls after repeated crashes, else 0.", []string{"plugin"}, nil)
	pluginMemoryDesc = prometheus.NewDesc(namespace+"_plugin_memory_bytes",
		"Linear memory of a plugin's live instances, as of their last call.", []string{"plugin"}, nil)
	pluginDBStatementsDesc = prometheus.NewDesc(namespace+"_plugin_db_statements_total",
		"A plugin's database statements (db_exec and db_query), across its versions.", []string{"plugin"}, nil)
	pluginDBErrorsDesc = prometheus.NewDesc(namespace+"_plugin_db_errors_total",
		"A plugin's database statements that failed, across its versions.", []string{"plugin"}, nil)
)

// pluginCollector reports the serving plugins at each scrape, so that a
// call pays nothing for them.
type pluginCollector struct{ src PluginSource }

// Describe implements prometheus.Collector.
func (c pluginCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pluginInfoDesc
	ch <- pluginInstancesDesc
	ch <- pluginBreakerDesc
	ch <- pluginMemoryDesc
	ch <- pluginDBStatementsDesc
	ch <- pluginDBErrorsDesc
}

// Collect implements prometheus.Collector.
func (c pluginCollector) Collect(ch chan<- prometheus.Metric) {
	gen := strconv.FormatUint(c.src.Generation(), 10)
	for _, p := range c.src.Plugins() {
		name := label(p.Name)
		ch <- prometheus.MustNewConstMetric(pluginInfoDesc, prometheus.GaugeValue, 1, name, label(p.Version), gen)
		ch <- prometheus.MustNewConstMetric(pluginInstancesDesc, prometheus.GaugeValue, float64(p.Instances()), name)
		open := 0.0
		if p.BreakerOpen() {
			open = 1
		}
		ch <- prometheus.MustNewConstMetric(pluginBreakerDesc, prometheus.GaugeValue, open, name)
		ch <- prometheus.MustNewConstMetric(pluginMemoryDesc, prometheus.GaugeValue, float64(p.MemoryBytes()), name)
		if s := p.DBStats(); s != nil {
			ch <- prometheus.MustNewConstMetric(pluginDBStatementsDesc, prometheus.CounterValue, float64(s.Statements()), name)
			ch <- prometheus.MustNewConstMetric(pluginDBErrorsDesc, prometheus.CounterValue, float64(s.Errors()), name)
		}
	}
}

// WatchPlugins adds the plugins of src to the metrics, read at each
// scrape. Call it once.
func (m *Metrics) WatchPlugins(src PluginSource) {
	m.reg.MustRegister(pluginCollector{src})
}
