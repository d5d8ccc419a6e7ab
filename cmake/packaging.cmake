# A .deb of chaos-agent and chaosctl (`cpack -G DEB` in the build directory,
# after building both; deploy/README.md). Paths follow Debian: binaries in
# /usr/bin, the systemd units in /usr/lib/systemd/system, the example config
# and the deploy README under /usr/share/doc/chaos. Library dependencies
# come from dpkg-shlibdeps; the tools the agent runs are listed by hand.

install(TARGETS chaos-agent chaosctl RUNTIME DESTINATION bin COMPONENT chaos)

# The unit in deploy/ is for a hand install in /usr/local (deploy/README.md);
# the package puts the agent in /usr/bin.
file(READ ${PROJECT_SOURCE_DIR}/deploy/chaos-agent.service chaos_unit_text)
string(REPLACE "/usr/local/bin/chaos-agent" "/usr/bin/chaos-agent" chaos_unit_text "${chaos_unit_text}")
file(WRITE ${PROJECT_BINARY_DIR}/packaging/chaos-agent.service "${chaos_unit_text}")
install(FILES ${PROJECT_BINARY_DIR}/packaging/chaos-agent.service
        DESTINATION lib/systemd/system COMPONENT chaos)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/debian/chaos-agent.sysusers
        DESTINATION lib/sysusers.d RENAME chaos-agent.conf COMPONENT chaos)
# The game-day timer and service (deploy/schedule/), chaosctl in /usr/bin,
# and their user; installed disabled like the agent's unit.
foreach(chaos_schedule_unit chaosctl-game-day.service chaosctl-game-day.timer)
  file(READ ${PROJECT_SOURCE_DIR}/deploy/schedule/${chaos_schedule_unit} chaos_unit_text)
  string(REPLACE "/usr/local/bin/chaosctl" "/usr/bin/chaosctl" chaos_unit_text "${chaos_unit_text}")
  file(WRITE ${PROJECT_BINARY_DIR}/packaging/${chaos_schedule_unit} "${chaos_unit_text}")
  install(FILES ${PROJECT_BINARY_DIR}/packaging/${chaos_schedule_unit}
          DESTINATION lib/systemd/system COMPONENT chaos)
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/deploy/debian/chaosctl.sysusers
        DESTINATION lib/sysusers.d RENAME chaosctl.conf COMPONENT chaos)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/agent.toml ${PROJECT_SOURCE_DIR}/agent/agent.example.toml
        DESTINATION share/doc/chaos/examples COMPONENT chaos)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/README.md DESTINATION share/doc/chaos/deploy COMPONENT chaos)

set(CHAOS_PACKAGE_MAINTAINER "Chaos maintainers <chaos-maintainers@example.invalid>"
    CACHE STRING "Maintainer field of the .deb")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME chaos)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "chaos-agent and chaosctl: fault injection for messaging clusters")
set(CPACK_PACKAGE_DESCRIPTION "chaos-agent injects network, DNS, process and container faults on a node \
and reverts them; chaosctl runs chaos experiments against the agents and Prometheus and reports an SLO verdict.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CHAOS_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Run by the agent, not linked: dpkg-shlibdeps cannot see them.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "iptables, nftables, iproute2, util-linux")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/deploy/debian/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
