# Loads vm/Vagrantfile with a stand-in for Vagrant's configuration API and prints, as JSON, the
# machines it defines: what `vagrant up` would create. Used by tests/vm/test_provisioning.py.
require "json"

class Recorder
  attr_reader :data

  def initialize
    @data = {}
  end

  def method_missing(name, *args, &block)
    key = name.to_s
    if key.end_with?("=")
      @data[key.chomp("=")] = args.first
      return args.first
    end
    @data[key] ||= Recorder.new
  end

  def respond_to_missing?(*_args)
    true
  end

  def to_h
    @data.transform_values { |v| v.is_a?(Recorder) ? v.to_h : v }
  end
end

class VmConfig < Recorder
  attr_reader :networks, :provisioners, :providers, :synced_folders

  def initialize
    super
    @networks = []
    @provisioners = []
    @providers = {}
    @synced_folders = []
  end

  def network(type, **options)
    @networks << { "type" => type }.merge(options.transform_keys(&:to_s))
  end

  def provision(name, **options)
    @provisioners << { "name" => name }.merge(options.transform_keys(&:to_s))
  end

  def provider(name)
    provider = Recorder.new
    yield provider
    @providers[name] = provider.to_h
  end

  def synced_folder(source, target, **_options)
    @synced_folders << [source, target]
  end

  def define(name)
    machine = MachineConfig.new
    yield machine
    MACHINES << { "name" => name }.merge(machine.vm.summary)
  end

  def summary
    to_h.merge("networks" => @networks, "provisioners" => @provisioners, "providers" => @providers)
  end
end

class MachineConfig
  attr_reader :vm

  def initialize
    @vm = VmConfig.new
  end
end

MACHINES = []
TOP = MachineConfig.new

module Vagrant
  def self.configure(_version)
    yield TOP
  end
end

load ARGV.fetch(0)
puts JSON.generate({ "box" => TOP.vm.data["box"], "synced_folders" => TOP.vm.synced_folders, "machines" => MACHINES })
